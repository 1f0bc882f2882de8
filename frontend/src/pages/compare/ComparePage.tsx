import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../../api/endpoints';
import type { ComparedTask, Comparison, Task } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { canWrite } from '../../auth/roles';
import { EmptyState, ErrorBanner, Loading } from '../../components/Feedback';
import ProviderLabel from '../../components/ProviderLabel';
import StatusBadge from '../../components/StatusBadge';
import { formatDuration, formatNumber, formatPercent } from '../../lib/format';
import { isTerminal } from '../../lib/taskStatus';
import { usageCells } from '../../lib/usage';
import { useAsync } from '../../lib/useAsync';
import { usePolling } from '../../lib/usePolling';
import { bestByTarget, comparedTargets, parseIds, targetCells } from './compareRows';

const MAX_TASKS = 10;
const REFRESH_MS = 2000;

/** Tasks side by side: accuracy per target (round 1 and final), convergence, usage and time. */
export default function ComparePage() {
  const [params, setParams] = useSearchParams();
  const ids = parseIds(params.get('ids'));
  const setIds = (next: number[]) => setParams(next.length ? { ids: next.join(',') } : {});
  const key = ids.join(',');
  const [answer, setAnswer] = useState<{ key: string; data: Comparison } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const ready = ids.length >= 2;
  const data = answer?.key === key ? answer.data : null;
  // Refresh until every task compared has finished (a baseline just started, say).
  const settled = data != null && data.tasks.every((t) => isTerminal(t.status));

  usePolling(
    async (signal) => {
      try {
        const compared = await api.compare(ids, signal);
        if (!signal.aborted) {
          setAnswer({ key, data: compared });
          setError(null);
        }
      } catch (err) {
        if (!signal.aborted) setError(err);
      }
    },
    REFRESH_MS,
    ready && !settled,
    key,
  );

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Compare runs</h1>
          <p className="muted" style={{ margin: 0 }}>
            Tasks on the same test file, scored against its measured values. The newest baseline on that file is added when none is chosen.
          </p>
        </div>
      </div>
      <TaskChooser ids={ids} onIds={setIds} />
      <ErrorBanner error={error} />
      {!ready ? (
        <section className="panel">
          <EmptyState title="Choose at least two tasks to compare.">
            {ids.length === 1 ? <BaselineAction taskId={ids[0]!} onStarted={(id) => setIds([...ids, id])} /> : null}
          </EmptyState>
        </section>
      ) : !data ? (
        error ? null : <Loading label="Comparing…" />
      ) : (
        <ComparisonView data={data} ids={ids} onIds={setIds} />
      )}
    </>
  );
}

function TaskChooser({ ids, onIds }: { ids: number[]; onIds: (ids: number[]) => void }) {
  // Reloaded when the chosen set changes: a baseline just started is named too.
  const { data, error } = useAsync((signal) => api.listTasks({ limit: 100, offset: 0 }, signal), [ids.join(',')]);
  const [pick, setPick] = useState('');
  const tasks: Task[] = data?.items ?? [];
  const others = tasks.filter((t) => !ids.includes(t.task_id));
  return (
    <section className="panel" aria-label="Chosen tasks">
      <ErrorBanner error={error} />
      <div className="toolbar" style={{ marginBottom: 0 }}>
        {ids.map((id) => (
          <span key={id} className="chip">
            #{id} {tasks.find((t) => t.task_id === id)?.task_name ?? ''}
            <button type="button" className="btn btn--small" aria-label={`Remove task ${id}`} onClick={() => onIds(ids.filter((i) => i !== id))}>
              ×
            </button>
          </span>
        ))}
        <div className="field" style={{ flexDirection: 'row', alignItems: 'center', gap: '0.4rem' }}>
          <label htmlFor="compare-add">Compare with</label>
          <select id="compare-add" value={pick} onChange={(e) => setPick(e.target.value)} disabled={ids.length >= MAX_TASKS}>
            <option value="">choose a task…</option>
            {others.map((t) => (
              <option key={t.task_id} value={t.task_id}>
                #{t.task_id} {t.task_name} ({t.provider_label})
              </option>
            ))}
          </select>
          <button
            type="button"
            className="btn btn--small"
            disabled={!pick}
            onClick={() => {
              onIds([...ids, Number(pick)]);
              setPick('');
            }}
          >
            Add
          </button>
        </div>
      </div>
    </section>
  );
}

/** Start the baseline on a task's test set (same files, targets, columns) and add it here. */
function BaselineAction({ taskId, onStarted }: { taskId: number; onStarted: (id: number) => void }) {
  const { user } = useAuth();
  const [error, setError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);
  if (!canWrite(user)) return null;
  const run = async () => {
    setStarting(true);
    try {
      onStarted((await api.runBaseline(taskId)).task_id);
    } catch (err) {
      setError(err);
    } finally {
      setStarting(false);
    }
  };
  return (
    <>
      <button type="button" className="btn" disabled={starting} onClick={() => void run()}>
        Run the baseline on this test set
      </button>
      <ErrorBanner error={error} />
    </>
  );
}

function ComparisonView({ data, ids, onIds }: { data: Comparison; ids: number[]; onIds: (ids: number[]) => void }) {
  const targets = comparedTargets(data.tasks);
  const best = bestByTarget(data.tasks, targets);
  const hasBaseline = data.tasks.some((t) => t.llm_provider === 'baseline');

  return (
    <section className="panel" aria-labelledby="compare-title" data-testid="compare-table">
      <div className="panel__header">
        <h2 id="compare-title">Side by side</h2>
        {!hasBaseline && ids[0] != null ? <BaselineAction taskId={ids[0]} onStarted={(id) => onIds([...ids, id])} /> : null}
      </div>
      {data.same_test_file ? null : (
        <div className="notice notice--warn" role="status">
          These tasks use different test files: their scores are not directly comparable.
        </div>
      )}
      <div className="table-wrap">
        <table className="data" aria-label="Runs compared">
          <thead>
            <tr>
              <th scope="col">Run</th>
              {data.tasks.map((task) => (
                <th key={task.task_id} scope="col" className="num" data-testid={`compare-task-${task.task_id}`}>
                  <Link to={`/tasks/${task.task_id}`}>{task.task_name}</Link>
                  <span className="muted small"> #{task.task_id}</span>
                  <div className="small" style={{ fontWeight: 'normal' }}>
                    <ProviderLabel provider={task.llm_provider} model={task.llm_model} />
                    {task.added_as_baseline ? <span className="muted"> (on this test file)</span> : null}
                  </div>
                  <StatusBadge status={task.status} />
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {targets.map((target) => (
              <TargetRows key={target} target={target} tasks={data.tasks} best={best[target] ?? null} />
            ))}
            <MetricRow label="Converged samples" tasks={data.tasks} cell={(t) => `${t.convergence.converged_samples}/${t.convergence.total_samples}`} />
            <MetricRow label="Mean convergence round" tasks={data.tasks} cell={(t) => formatNumber(t.convergence.average_convergence_iteration, 2)} />
            <MetricRow label="LLM calls" tasks={data.tasks} cell={(t) => usageCells(t.usage).calls} />
            <MetricRow label="Cache hits" tasks={data.tasks} cell={(t) => usageCells(t.usage).cacheHits} />
            <MetricRow label="Tokens (in + out)" tasks={data.tasks} cell={(t) => usageCells(t.usage).tokens} />
            <MetricRow label="Cost" tasks={data.tasks} cell={(t) => usageCells(t.usage).cost} />
            <MetricRow label="Time" tasks={data.tasks} cell={(t) => formatDuration(t.duration_seconds)} />
          </tbody>
        </table>
      </div>
      <p className="small muted">Bold: the lowest final MAE for that target. Coverage: the share of measured values inside the 90 % interval (– when a run has no intervals).</p>
    </section>
  );
}

function MetricRow({ label, tasks, cell, bold }: { label: string; tasks: ComparedTask[]; cell: (t: ComparedTask) => string; bold?: number | null }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      {tasks.map((t) => (
        <td key={t.task_id} className="num" style={bold === t.task_id ? { fontWeight: 700 } : undefined}>
          {cell(t)}
        </td>
      ))}
    </tr>
  );
}

function TargetRows({ target, tasks, best }: { target: string; tasks: ComparedTask[]; best: number | null }) {
  const c = (t: ComparedTask) => targetCells(t, target);
  return (
    <>
      <MetricRow label={`${target}: MAE round 1 → final`} tasks={tasks} bold={best} cell={(t) => `${formatNumber(c(t).firstMae, 2)} → ${formatNumber(c(t).finalMae, 2)}`} />
      <MetricRow label={`${target}: RMSE / R² (final)`} tasks={tasks} cell={(t) => `${formatNumber(c(t).finalRmse, 2)} / ${formatNumber(c(t).finalR2, 2)}`} />
      <MetricRow label={`${target}: 90 % interval coverage`} tasks={tasks} cell={(t) => formatPercent(c(t).coverage)} />
    </>
  );
}

