/** Task status helpers. The values come from the backend's vocabulary (api/vocabulary.ts). */
import type { EarlyStopReason, TaskStatus } from '../api/types';
import { TaskStatusValues } from '../api/vocabulary';

export const TASK_STATUSES = TaskStatusValues;
const TERMINAL: ReadonlySet<string> = new Set<TaskStatus>(['completed', 'failed', 'cancelled']);

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

export const EARLY_STOP_REASONS: Record<EarlyStopReason, string> = {
  all_samples_converged: 'every sample converged',
  max_iterations_reached: 'the round limit was reached',
  cancelled: 'the task was cancelled',
  budget_exhausted: 'its budget (max_cost_usd) was spent',
};
