import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../api/types';
import { StaticAuthProvider } from '../../auth/AuthContext';
import { me, task } from '../../test/fixtures';
import TaskHeader from './TaskHeader';

function renderHeader(partial: Partial<Task>) {
  render(
    <MemoryRouter>
      <StaticAuthProvider user={me('admin')}>
        <TaskHeader task={task(partial)} onTask={() => undefined} exportButtons={null} />
      </StaticAuthProvider>
    </MemoryRouter>,
  );
}

const llm = { llm_provider: 'openai', llm_model: 'gpt-4o-mini', is_baseline: false, provider_label: 'openai/gpt-4o-mini' } as const;

describe('task header: priority and budget', () => {
  it('shows the priority and the budget', () => {
    renderHeader({ ...llm, priority: 20, max_cost_usd: 0.5 });
    expect(screen.getByTestId('task-priority')).toHaveTextContent('Priority 20');
    expect(screen.getByTestId('task-budget')).toHaveTextContent(/^Budget \$0\.50$/);
  });

  it('says the budget was spent when it stopped the task', () => {
    renderHeader({ ...llm, status: 'completed', max_cost_usd: 2, early_stop_reason: 'budget_exhausted' });
    expect(screen.getByTestId('task-budget')).toHaveTextContent('Budget $2.00 · budget spent');
  });

  it('does not say so for another reason to stop', () => {
    renderHeader({ ...llm, status: 'completed', max_cost_usd: 2, early_stop_reason: 'all_samples_converged' });
    expect(screen.getByTestId('task-budget')).not.toHaveTextContent('spent');
  });

  it('says an LLM task has no budget', () => {
    renderHeader({ ...llm, max_cost_usd: null });
    expect(screen.getByTestId('task-budget')).toHaveTextContent('No budget');
  });

  it('names no budget for the baseline, which costs nothing', () => {
    renderHeader({ max_cost_usd: null, priority: -3 });
    expect(screen.queryByTestId('task-budget')).toBeNull();
    expect(screen.getByTestId('task-priority')).toHaveTextContent('Priority -3');
  });
});
