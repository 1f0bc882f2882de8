import { fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { Estimate } from '../../api/types';
import RunSettings from './RunSettings';
import { initialForm, validateForm } from './taskForm';
import type { TaskForm } from './taskForm';

function Harness({ estimate = null, start = {} }: { estimate?: Estimate | null; start?: Partial<TaskForm> }) {
  const [form, setForm] = useState<TaskForm>({ ...initialForm(), ...start });
  return <RunSettings form={form} errors={validateForm(form)} onChange={(p) => setForm((f) => ({ ...f, ...p }))} estimate={estimate} />;
}

const LLM = { llm_provider: 'openai', llm_model: 'gpt-4o-mini' } as const;

function estimate(min: number | null, max: number | null): Estimate {
  return {
    samples: 10,
    calls_min: 20,
    calls_max: 50,
    prompt_tokens_per_call: 900,
    prompt_tokens_per_call_max: 1500,
    completion_tokens_per_call: 120,
    cost_usd_min: min,
    cost_usd_max: max,
    note: 'retries excluded',
  };
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

  it('takes a priority in the server\'s range, 0 by default', () => {
    render(<Harness />);
    const priority = screen.getByLabelText('Priority');
    expect(priority).toHaveValue(0);
    expect(priority).toHaveAttribute('min', '-1000');
    expect(priority).toHaveAttribute('max', '1000');
    fireEvent.change(priority, { target: { value: '1500' } });
    expect(priority).toHaveAttribute('aria-invalid', 'true');
    expect(priority).toHaveAccessibleDescription(/priority must be between -1000 and 1000/);
    fireEvent.change(priority, { target: { value: '10' } });
    expect(priority).toHaveAttribute('aria-invalid', 'false');
  });

  it('takes an optional budget above 0, with the estimate beside it', () => {
    render(<Harness start={LLM} estimate={estimate(0.02, 0.05)} />);
    const budget = screen.getByLabelText('Budget (USD)');
    expect(budget).toHaveValue(null);
    expect(budget).toHaveAttribute('aria-invalid', 'false');
    expect(screen.getByTestId('budget-estimate')).toHaveTextContent(/^Estimated cost: \$0\.02–\$0\.05$/);
    fireEvent.change(budget, { target: { value: '0' } });
    expect(budget).toHaveAttribute('aria-invalid', 'true');
    expect(budget).toHaveAccessibleDescription(/max_cost_usd must be .* greater than 0/);
    fireEvent.change(budget, { target: { value: '0.03' } });
    expect(budget).toHaveAttribute('aria-invalid', 'false');
    expect(screen.getByTestId('budget-estimate')).toHaveTextContent("the budget is below the estimate's upper end");
    fireEvent.change(budget, { target: { value: '1' } });
    expect(screen.getByTestId('budget-estimate')).not.toHaveTextContent('below');
  });

  it('asks for a preview when there is no estimate, and says when the model has no price', () => {
    const { unmount } = render(<Harness start={LLM} />);
    expect(screen.getByTestId('budget-estimate')).toHaveTextContent('Preview the prompt to see the estimated cost.');
    unmount();
    render(<Harness start={LLM} estimate={estimate(null, null)} />);
    expect(screen.getByTestId('budget-estimate')).toHaveTextContent('unknown (no price for this model)');
  });

  it('takes no budget for the baseline', () => {
    render(<Harness estimate={estimate(0, 0)} />);
    expect(screen.getByLabelText('Budget (USD)')).toBeDisabled();
    expect(screen.queryByTestId('budget-estimate')).toBeNull();
  });
});
