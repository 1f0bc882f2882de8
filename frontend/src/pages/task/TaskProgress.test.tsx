import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { task } from '../../test/fixtures';
import TasksTable from '../tasks/TasksTable';
import TaskProgress from './TaskProgress';

const usage = { llm_calls: 40, cache_hits: 8, prompt_tokens: 52_000, completion_tokens: 1_200, cost_usd: 0.0312 };

describe('usage and queue position', () => {
  it('shows calls, cache hits, tokens and cost on the task page', () => {
    render(<TaskProgress task={task({ llm_provider: 'openai', is_baseline: false, usage, max_cost_usd: 1 })} info={null} />);
    const cells = within(screen.getByTestId('task-usage'));
    expect(cells.getByText('40')).toBeInTheDocument();
    expect(cells.getByText('8')).toBeInTheDocument();
    expect(cells.getByText('52k + 1.2k')).toBeInTheDocument();
    expect(cells.getByText('$0.03')).toBeInTheDocument();
    expect(cells.getByText('cost (budget $1)')).toBeInTheDocument();
    expect(screen.queryByTestId('queue-position')).toBeNull();
  });

  it('says an unpriced model has no known cost, and where a pending task is queued', () => {
    render(<TaskProgress task={task({ status: 'pending', queue_position: 3, priority: 5, usage: { ...usage, cost_usd: null } })} info={null} />);
    expect(within(screen.getByTestId('task-usage')).getByText('unpriced')).toBeInTheDocument();
    expect(screen.getByTestId('queue-position')).toHaveTextContent('#3 in the queue (priority 5)');
  });

  it('lists usage and queue position in the task list', () => {
    const tasks = [task({ task_id: 1, usage }), task({ task_id: 2, status: 'pending', queue_position: 1 })];
    render(
      <MemoryRouter>
        <TasksTable tasks={tasks} />
      </MemoryRouter>,
    );
    const rows = screen.getAllByRole('row');
    expect(within(rows[1]!).getByText('40 (8)')).toBeInTheDocument();
    expect(within(rows[1]!).getByText('$0.03')).toBeInTheDocument();
    expect(within(rows[2]!).getByTestId('queue-position')).toHaveTextContent('next in queue');
  });
});
