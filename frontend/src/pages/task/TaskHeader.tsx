import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../../api/endpoints';
import { useAuth } from '../../auth/AuthContext';
import { canManage, manageDeniedReason } from '../../auth/roles';
import type { Task } from '../../api/types';
import ProviderLabel from '../../components/ProviderLabel';
import StatusBadge from '../../components/StatusBadge';
import { errorText } from '../../lib/errorText';
import { formatDateTime } from '../../lib/format';
import { isTerminal } from '../../lib/taskStatus';
import { formatCost } from '../../lib/usage';
import type { ReactNode } from 'react';

interface Props {
  task: Task;
  onTask: (task: Task) => void;
  exportButtons: ReactNode;
}

/** Name, status, provider, and the task-wide actions (cancel, export). */
export default function TaskHeader({ task, onTask, exportButtons }: Props) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { user } = useAuth();
  const running = !isTerminal(task.status);
  const canCancel = running && canManage(user, task.owner_id);
  const cancelDenied = running ? manageDeniedReason(user, task.owner_id, 'Cancelling', 'cancel it') : null;
  const budgetSpent = task.early_stop_reason === 'budget_exhausted';

  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      onTask(await api.cancelTask(task.task_id));
      setConfirming(false);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page-header">
      <div>
        <h1>
          {task.task_name} <span className="muted small">#{task.task_id}</span>
        </h1>
        <div className="page-header__meta">
          <span data-testid="task-status">
            <StatusBadge status={task.status} />
          </span>
          <ProviderLabel provider={task.llm_provider} model={task.llm_model} label={task.provider_label} isBaseline={task.is_baseline} />
          <span>Targets: {task.target_properties.join(', ')}</span>
          <span>Created {formatDateTime(task.created_at)}</span>
          <span data-testid="task-priority" title="Higher runs first; equal priorities in start order">
            Priority {task.priority}
          </span>
          {task.max_cost_usd != null ? (
            <span data-testid="task-budget">
              Budget {formatCost(task.max_cost_usd)}
              {budgetSpent ? <strong className="budget-spent"> · budget spent</strong> : null}
            </span>
          ) : task.is_baseline ? null : (
            <span data-testid="task-budget" className="muted">
              No budget
            </span>
          )}
          {task.continue_from_task_id ? (
            <span>
              Retry of <Link to={`/tasks/${task.continue_from_task_id}`}>task #{task.continue_from_task_id}</Link>
            </span>
          ) : null}
        </div>
        {task.task_description ? <p style={{ margin: '0.4rem 0 0' }}>{task.task_description}</p> : null}
      </div>
      <div className="actions">
        {exportButtons}
        {canCancel ? (
          confirming ? (
            <>
              <span>Stop this task?</span>
              <button type="button" className="btn btn--danger" onClick={cancel} disabled={busy}>
                {busy ? 'Cancelling…' : 'Yes, cancel it'}
              </button>
              <button type="button" className="btn" onClick={() => setConfirming(false)} disabled={busy}>
                Keep running
              </button>
            </>
          ) : (
            <button type="button" className="btn btn--danger" onClick={() => setConfirming(true)}>
              Cancel task
            </button>
          )
        ) : cancelDenied ? (
          <span className="muted small" data-testid="cancel-denied">
            {cancelDenied}
          </span>
        ) : null}
        {error ? (
          <span className="field-error" role="alert">
            {error}
          </span>
        ) : null}
      </div>
    </div>
  );
}
