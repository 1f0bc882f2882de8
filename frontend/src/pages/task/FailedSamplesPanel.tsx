import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../../api/endpoints';
import { useAuth } from '../../auth/AuthContext';
import { canWrite } from '../../auth/roles';
import type { SampleHistory } from '../../api/types';
import { errorText } from '../../lib/errorText';
import { errorTypeCounts, failedSamples } from '../../lib/historyTransforms';

interface Props {
  taskId: number;
  samples: SampleHistory[];
  /** Retrying is offered once the task has finished. */
  finished: boolean;
}

/** Failed samples with their error types, and Retry failed (all or selected) into a new task. */
export default function FailedSamplesPanel({ taskId, samples, finished }: Props) {
  const navigate = useNavigate();
  const mayRetry = canWrite(useAuth().user);
  const Item = mayRetry ? 'label' : 'div';
  const failed = useMemo(() => failedSamples(samples), [samples]);
  const counts = useMemo(() => errorTypeCounts(failed), [failed]);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (failed.length === 0) return null;

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

  return (
    <section className="panel" aria-labelledby="failed-title" data-testid="failed-panel">
      <div className="panel__header">
        <h2 id="failed-title">
          Failed samples <span className="muted">({failed.length})</span>
        </h2>
        {mayRetry ? (
        <div className="actions">
          <button type="button" className="btn" disabled={!finished || busy || selected.size === 0} onClick={() => retry([...selected])}>
            Retry selected ({selected.size})
          </button>
          <button type="button" className="btn btn--primary" disabled={!finished || busy} onClick={() => retry()}>
            {busy ? 'Starting retry…' : `Retry failed (${failed.length})`}
          </button>
        </div>
        ) : (
          <span className="muted small" data-testid="retry-denied">
            Retrying needs the member role.
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
        Error types:{' '}
        {counts.map(([type, n], i) => (
          <span key={type}>
            {i ? ', ' : ''}
            <code>{type}</code> × {n}
          </span>
        ))}
        .{mayRetry ? ' A retry runs only these samples in a new task, continuing from the round that failed.' : ''}
      </p>
      <div className="failed-list" role="group" aria-label={mayRetry ? 'Failed samples to retry' : 'Failed samples'}>
        {failed.map((f) => (
          <Item key={f.index} className="failed-item" style={mayRetry ? undefined : { gridTemplateColumns: '1fr' }}>
            {mayRetry ? (
              <input type="checkbox" checked={selected.has(f.index)} onChange={(e) => toggle(f.index, e.target.checked)} aria-label={`Select ${f.id} for retry`} />
            ) : null}
            <span>
              <strong>{f.id}</strong> <span className="muted small">#{f.index}</span>
              {f.failedAt ? <span className="muted small"> · failed in round {f.failedAt}</span> : null} ·{' '}
              {f.errorTypes.map((t) => (
                <code key={t}>{t} </code>
              ))}
              {f.lastMessage ? <div className="small muted">{f.lastMessage}</div> : null}
            </span>
          </Item>
        ))}
      </div>
    </section>
  );
}
