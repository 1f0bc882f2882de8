/** Task status helpers. */
export const TASK_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

export const EARLY_STOP_REASONS: Record<string, string> = {
  all_samples_converged: 'every sample converged',
  max_iterations_reached: 'the round limit was reached',
  cancelled: 'the task was cancelled',
};
