import { useSearchParams } from 'react-router-dom';
import { api } from '../../api/endpoints';
import type { AuditEvent } from '../../api/types';
import { EmptyState, ErrorBanner, Loading } from '../../components/Feedback';
import { formatDateTime } from '../../lib/format';
import { useAsync } from '../../lib/useAsync';

export const AUDIT_PAGE_SIZE = 50;

/** `{role: "viewer", n: 2}` → `role: viewer, n: 2`. */
export function formatDetails(details: AuditEvent['details']): string {
  if (!details) return '';
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

export default function AuditPage() {
  const [params, setParams] = useSearchParams();
  const offset = Math.max(0, Number(params.get('offset') ?? 0) || 0);
  const page = useAsync((signal) => api.listAudit({ limit: AUDIT_PAGE_SIZE, offset }, signal), [offset]);
  const data = page.data;
  const total = data?.total ?? 0;
  const go = (o: number) => setParams(o ? new URLSearchParams({ offset: String(o) }) : new URLSearchParams());

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Audit trail</h1>
          <p className="muted" style={{ margin: 0 }}>
            Logins (failed ones too), uploads, starts, cancels, retries, token and user changes; newest first.
          </p>
        </div>
        <button type="button" className="btn" onClick={page.reload} disabled={page.loading}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={page.error} onRetry={page.reload} />
      <section className="panel" aria-labelledby="audit-title">
        <h2 id="audit-title" className="visually-hidden">
          Events
        </h2>
        {!data ? (
          page.error ? null : <Loading label="Loading the audit trail…" />
        ) : data.items.length === 0 ? (
          <EmptyState title={offset ? 'No events on this page.' : 'No events yet.'} />
        ) : (
          <>
            <div className="table-wrap">
              <table className="data" aria-label="Audit events" data-testid="audit-table" aria-busy={page.loading}>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">From</th>
                    <th scope="col">Result</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((e) => (
                    <tr key={e.id}>
                      <td>{formatDateTime(e.created_at)}</td>
                      <td>{e.actor}</td>
                      <td>
                        <code>{e.action}</code>
                      </td>
                      <td>{e.target ?? '–'}</td>
                      <td>{e.client_ip ?? '–'}</td>
                      <td>
                        <span className={`badge badge--${e.success ? 'completed' : 'failed'}`}>{e.success ? 'ok' : 'failed'}</span>
                      </td>
                      <td className="wrap small">{formatDetails(e.details)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <nav className="pager" aria-label="Pages">
              <span className="muted small">
                {offset + 1}–{Math.min(offset + data.items.length, total)} of {total}
              </span>
              <button type="button" className="btn btn--small" disabled={offset === 0} onClick={() => go(Math.max(0, offset - AUDIT_PAGE_SIZE))}>
                Newer
              </button>
              <button type="button" className="btn btn--small" disabled={offset + AUDIT_PAGE_SIZE >= total} onClick={() => go(offset + AUDIT_PAGE_SIZE)}>
                Older
              </button>
            </nav>
          </>
        )}
      </section>
    </>
  );
}
