import { Link } from 'react-router-dom';
import type { Task } from '../../api/types';
import ProgressBar from '../../components/ProgressBar';
import ProviderLabel from '../../components/ProviderLabel';
import StatusBadge from '../../components/StatusBadge';
import { formatDateTime } from '../../lib/format';
import { queueLabel, usageCells } from '../../lib/usage';

export default function TasksTable({ tasks }: { tasks: Task[] }) {
  return (
    <div className="table-wrap">
      <table className="data" data-testid="tasks-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Provider</th>
            <th scope="col">Status</th>
            <th scope="col">Round</th>
            <th scope="col">Progress</th>
            <th scope="col" className="num">
              Converged
            </th>
            <th scope="col" className="num">
              Failed
            </th>
            <th scope="col" className="num">
              Calls (cached)
            </th>
            <th scope="col" className="num">
              Cost
            </th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="visually-hidden">Compare</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => {
            const usage = usageCells(t.usage);
            const queued = queueLabel(t.queue_position);
            return (
              <tr key={t.task_id}>
                <td>
                  <Link to={`/tasks/${t.task_id}`}>{t.task_name}</Link>
                  <span className="muted small"> #{t.task_id}</span>
                  {t.continue_from_task_id ? <span className="muted small"> (retry of #{t.continue_from_task_id})</span> : null}
                </td>
                <td>
                  <ProviderLabel provider={t.llm_provider} model={t.llm_model} label={t.provider_label} isBaseline={t.is_baseline} />
                </td>
                <td>
                  <StatusBadge status={t.status} />
                  {queued ? <span className="muted small" data-testid="queue-position"> {queued} in queue</span> : null}
                </td>
                <td className="nowrap">
                  {t.current_iteration}/{t.max_iterations}
                </td>
                <td>
                  <ProgressBar value={t.progress} label={`Progress of ${t.task_name}`} compact />
                </td>
                <td className="num">
                  {t.converged_samples}/{t.total_samples}
                </td>
                <td className="num" style={t.failed_samples ? { color: 'var(--bad)', fontWeight: 600 } : undefined}>
                  {t.failed_samples}
                </td>
                <td className="num nowrap" title={`tokens: ${usage.tokens}`}>
                  {usage.calls} ({usage.cacheHits})
                </td>
                <td className="num nowrap">{usage.cost}</td>
                <td className="nowrap">{formatDateTime(t.created_at)}</td>
                <td className="nowrap">
                  <Link to={`/compare?ids=${t.task_id}`} aria-label={`Compare ${t.task_name} (#${t.task_id}) with other runs`}>
                    Compare with…
                  </Link>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
