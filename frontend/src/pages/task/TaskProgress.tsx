import type { GlobalInfo, Task } from '../../api/types';
import ProgressBar from '../../components/ProgressBar';
import { formatDuration } from '../../lib/format';
import { EARLY_STOP_REASONS, isTerminal } from '../../lib/taskStatus';
import { queueLabel, usageCells } from '../../lib/usage';

interface Props {
  task: Task;
  info: GlobalInfo | null;
}

function Counter({ label, value, tone }: { label: string; value: string | number; tone?: 'ok' | 'bad' }) {
  return (
    <div className={tone ? `counter counter--${tone}` : 'counter'}>
      <div className="counter__value">{value}</div>
      <div className="counter__label">{label}</div>
    </div>
  );
}

/** Progress bar and the task's counters; explains why it stopped or failed. */
export default function TaskProgress({ task, info }: Props) {
  const running = !isTerminal(task.status);
  const reason = task.early_stop_reason ?? info?.early_stop_reason ?? null;
  const notConverged = Math.max(0, task.total_samples - task.converged_samples - task.failed_samples);
  const usage = usageCells(task.usage);
  const queued = queueLabel(task.queue_position);
  return (
    <section className="panel" aria-labelledby="progress-title" data-testid="task-progress">
      <div className="panel__header">
        <h2 id="progress-title">Progress</h2>
        {running ? (
          <span className="muted small" aria-live="polite">
            Live — updating every 2 s
          </span>
        ) : null}
      </div>
      {queued ? (
        <p className="muted" data-testid="queue-position" style={{ margin: '0 0 0.5rem' }}>
          Queued: {queued === 'next' ? 'next to run' : `${queued} in the queue`} (priority {task.priority}).
        </p>
      ) : null}
      <ProgressBar value={task.progress} label="Task progress" />
      <div className="counters">
        <Counter label="round (completed / max)" value={`${task.current_iteration}/${task.max_iterations}`} />
        <Counter label="samples" value={task.total_samples} />
        <Counter label="converged" value={task.converged_samples} tone="ok" />
        <Counter label="not converged" value={notConverged} />
        <Counter label="failed" value={task.failed_samples} tone={task.failed_samples ? 'bad' : undefined} />
        <Counter label="threshold" value={task.convergence_threshold} />
        <Counter label="duration" value={formatDuration(info?.total_duration_seconds ?? null)} />
      </div>
      <div className="counters" data-testid="task-usage" aria-label="Usage">
        <Counter label="LLM calls" value={usage.calls} />
        <Counter label="cache hits" value={usage.cacheHits} />
        <Counter label="tokens (in + out)" value={usage.tokens} />
        <Counter label={task.max_cost_usd != null ? `cost (budget $${task.max_cost_usd})` : 'cost'} value={usage.cost} />
      </div>
      {task.status === 'failed' && task.error ? (
        <p className="error-banner" role="alert" style={{ marginTop: '0.75rem' }}>
          The task failed: {task.error}
        </p>
      ) : null}
      {!running && reason ? (
        <p className="muted" style={{ margin: '0.75rem 0 0' }}>
          Stopped because{' '}
          {reason === 'all_samples_converged' && task.failed_samples > 0
            ? 'every sample converged or failed'
            : (EARLY_STOP_REASONS[reason] ?? reason)}
          {task.early_stop ? '' : ' (early stop was off: every sample ran every round)'}.
        </p>
      ) : null}
    </section>
  );
}
