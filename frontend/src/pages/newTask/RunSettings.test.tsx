import { fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import RunSettings from './RunSettings';
import { initialForm, validateForm } from './taskForm';
import type { TaskForm } from './taskForm';

function Harness() {
  const [form, setForm] = useState<TaskForm>(initialForm());
  return <RunSettings form={form} errors={validateForm(form)} onChange={(p) => setForm((f) => ({ ...f, ...p }))} />;
}

describe('RunSettings', () => {
  it('shows a range error next to the field and marks it invalid', () => {
    render(<Harness />);
    const rounds = screen.getByLabelText('Rounds (max_iterations)');
    fireEvent.change(rounds, { target: { value: '12' } });
    expect(rounds).toHaveAttribute('aria-invalid', 'true');
    expect(rounds).toHaveAccessibleDescription(/max_iterations must be between 1 and 10/);
    fireEvent.change(rounds, { target: { value: '7' } });
    expect(rounds).toHaveAttribute('aria-invalid', 'false');
  });

  it('keeps the slider and the number input in step', () => {
    render(<Harness />);
    fireEvent.change(screen.getByLabelText('Parallel calls (max_workers) slider'), { target: { value: '12' } });
    expect(screen.getByLabelText('Parallel calls (max_workers)')).toHaveValue(12);
  });

  it('disables model and temperature for the baseline and sets a model for a provider', () => {
    render(<Harness />);
    expect(screen.getByLabelText('Model')).toBeDisabled();
    expect(screen.getByLabelText('Temperature')).toBeDisabled();
    fireEvent.change(screen.getByLabelText('Provider'), { target: { value: 'gemini' } });
    expect(screen.getByLabelText('Model')).toHaveValue('gemini-2.0-flash');
    expect(screen.getByLabelText('Temperature')).toBeEnabled();
  });
});
