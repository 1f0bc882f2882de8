import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../../api/endpoints';
import { useAuth } from '../../auth/AuthContext';
import { canWrite } from '../../auth/roles';
import type { TaskList } from '../../api/types';
import { EmptyState, ErrorBanner, Loading } from '../../components/Feedback';
import { TASK_STATUSES } from '../../lib/taskStatus';
import { usePolling } from '../../lib/usePolling';
import TasksTable from './TasksTable';

const PAGE_SIZE = 25;
const REFRESH_MS = 3000;

/** All tasks, newest first, filtered by status, refreshing itself. */
export default function TasksPage() {
  const { user } = useAuth();
  const mayStart = canWrite(user);
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const offset = Math.max(0, Number(params.get('offset') ?? 0) || 0);
  const [data, setData] = useState<TaskList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadedKey, setLoadedKey] = useState('');
  const key = `${status}|${offset}`;

  usePolling(
    async (signal) => {
      try {
        const page = await api.listTasks({ limit: PAGE_SIZE, offset, status: status || undefined }, signal);
        if (signal.aborted) return;
        setData(page);
        setError(null);
        setLoadedKey(key);
      } catch (err) {
        if (!signal.aborted) setError(err);
      }
    },
    REFRESH_MS,
    true,
    key,
  );

  const setQuery = (next: { status?: string; offset?: number }) => {
    const q = new URLSearchParams();
    const s = next.status ?? status;
    const o = next.offset ?? 0;
    if (s) q.set('status', s);
    if (o) q.set('offset', String(o));
    setParams(q);
  };

  const current = loadedKey === key ? data : null;
  const total = current?.total ?? 0;

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Tasks</h1>
          <p className="muted" style={{ margin: 0 }}>
            Refreshes every few seconds.{mayStart ? '' : ' Read-only: starting tasks needs the member role.'}
          </p>
        </div>
        <div className="toolbar">
          <div className="field">
            <label htmlFor="status-filter">Status</label>
            <select id="status-filter" value={status} onChange={(e) => setQuery({ status: e.target.value, offset: 0 })}>
              <option value="">All</option>
              {TASK_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          {mayStart ? (
            <Link to="/new" className="btn btn--primary">
              New task
            </Link>
          ) : null}
        </div>
      </div>
      <ErrorBanner error={error} />
      <section className="panel" aria-label="Task list">
        {!current ? (
          error ? null : <Loading label="Loading tasks…" />
        ) : current.items.length === 0 ? (
          <EmptyState title={status ? `No ${status} tasks.` : 'No tasks yet.'}>
            {mayStart ? (
              <>
                <Link to="/new">Start a task</Link> — the baseline provider runs without any API key.
              </>
            ) : (
              'Tasks started by members appear here.'
            )}
          </EmptyState>
        ) : (
          <>
            <TasksTable tasks={current.items} />
            <nav className="pager" aria-label="Pages">
              <span className="muted small">
                {offset + 1}–{Math.min(offset + current.items.length, total)} of {total}
              </span>
              <button type="button" className="btn btn--small" disabled={offset === 0} onClick={() => setQuery({ offset: Math.max(0, offset - PAGE_SIZE) })}>
                Newer
              </button>
              <button type="button" className="btn btn--small" disabled={offset + PAGE_SIZE >= total} onClick={() => setQuery({ offset: offset + PAGE_SIZE })}>
                Older
              </button>
            </nav>
          </>
        )}
      </section>
    </>
  );
}
