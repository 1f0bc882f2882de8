import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../../api/endpoints';
import { useAuth } from '../../auth/AuthContext';
import { canManage, manageDeniedReason } from '../../auth/roles';
import type { SampleHistory } from '../../api/types';
import { errorText } from '../../lib/errorText';
import { errorTypeCounts, retryableSamples } from '../../lib/historyTransforms';

interface Props {
  taskId: number;
  /** The task's `owner_id`: a member may retry only the tasks they started. */
  ownerId: number | null;
  /** The task's round limit: a sample that stopped with fewer rounds stopped early. */
  maxIterations: number;
  samples: SampleHistory[];
  /** Retrying is offered once the task has finished; stopped samples are listed only then. */
  finished: boolean;
}

function title(failed: number, stopped: number): string {
  if (!stopped) return 'Failed samples';
  if (!failed) return 'Samples stopped early';
  return 'Failed and stopped samples';
}

function retryAllLabel(failed: number, stopped: number): string {
  const what = !stopped ? 'failed' : !failed ? 'stopped' : 'failed and stopped';
  return `Retry ${what} (${failed + stopped})`;
}

/**
 * Failed samples with their error types, and those a cancel, a credential error or the budget
 * stopped early; Retry (all or selected) continues them in a new task from their stored rounds.
 */
export default function FailedSamplesPanel({ taskId, ownerId, maxIterations, samples, finished }: Props) {
  const navigate = useNavigate();
  const { user } = useAuth();
  const mayRetry = canManage(user, ownerId);
  const denied = manageDeniedReason(user, ownerId, 'Retrying', 'retry its samples');
  const Item = mayRetry ? 'label' : 'div';
  const retryable = useMemo(() => retryableSamples(samples, maxIterations, finished), [samples, maxIterations, finished]);
  const failed = useMemo(() => retryable.filter((r) => r.kind === 'failed'), [retryable]);
  const stopped = retryable.length - failed.length;
  const counts = useMemo(() => errorTypeCounts(failed), [failed]);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (retryable.length === 0) return null;

  const retry = async (indices?: number[]) => {
    setBusy(true);
    setError(null);
    try {
      const res = await api.retryFailed(taskId, indices);
      navigate(`/tasks/${res.new_task_id}`);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  const toggle = (index: number, on: boolean) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(index);
      else next.delete(index);
      return next;
    });

  const chosen = retryable.filter((r) => selected.has(r.index)).map((r) => r.index);

  return (
    <section className="panel" aria-labelledby="failed-title" data-testid="failed-panel">
      <div className="panel__header">
        <h2 id="failed-title">
          {title(failed.length, stopped)} <span className="muted">({retryable.length})</span>
        </h2>
        {mayRetry ? (
          <div className="actions">
            <button type="button" className="btn" disabled={!finished || busy || chosen.length === 0} onClick={() => retry(chosen)}>
              Retry selected ({chosen.length})
            </button>
            <button type="button" className="btn btn--primary" disabled={!finished || busy} onClick={() => retry()}>
              {busy ? 'Starting retry…' : retryAllLabel(failed.length, stopped)}
            </button>
          </div>
        ) : (
          <span className="muted small" data-testid="retry-denied">
            {denied}
          </span>
        )}
      </div>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {!finished && mayRetry ? <p className="muted small">Retry becomes available when the task has finished.</p> : null}
      <p className="small" style={{ marginTop: 0 }}>
        {counts.length ? (
          <>
            Error types:{' '}
            {counts.map(([type, n], i) => (
              <span key={type}>
                {i ? ', ' : ''}
                <code>{type}</code> × {n}
              </span>
            ))}
            .{' '}
          </>
        ) : null}
        {stopped ? `${stopped} stopped early (cancelled, credentials refused or budget spent) before round ${maxIterations}. ` : null}
        {mayRetry ? 'A retry runs only these samples in a new task, continuing from their stored rounds.' : null}
      </p>
      <div className="failed-list" role="group" aria-label={mayRetry ? 'Samples to retry' : 'Failed and stopped samples'}>
        {retryable.map((f) => (
          <Item key={f.index} className="failed-item" data-kind={f.kind} style={mayRetry ? undefined : { gridTemplateColumns: '1fr' }}>
            {mayRetry ? (
              <input type="checkbox" checked={selected.has(f.index)} onChange={(e) => toggle(f.index, e.target.checked)} aria-label={`Select ${f.id} for retry`} />
            ) : null}
            <span>
              <strong>{f.id}</strong> <span className="muted small">#{f.index}</span>
              {f.kind === 'stopped' ? (
                <>
                  {' '}
                  <span className="badge badge--not_converged">stopped early</span>
                  <span className="muted small">
                    {' '}
                    · {f.rounds} of {maxIterations} rounds
                  </span>
                </>
              ) : (
                <>
                  {f.failedAt ? <span className="muted small"> · failed in round {f.failedAt}</span> : null} ·{' '}
                  {f.errorTypes.map((t) => (
                    <code key={t}>{t} </code>
                  ))}
                  {f.lastMessage ? <div className="small muted">{f.lastMessage}</div> : null}
                </>
              )}
            </span>
          </Item>
        ))}
      </div>
    </section>
  );
}
