import { useCallback, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { EmptyState, ErrorBanner, Loading } from '../../components/Feedback';
import { isNotFound } from '../../lib/errorText';
import { defaultTrendSelection, sortedSamples, targetNames } from '../../lib/historyTransforms';
import { isTerminal } from '../../lib/taskStatus';
import AccuracyPanel from './AccuracyPanel';
import ConvergenceStatsPanel from './ConvergenceStatsPanel';
import ExportButtons from './ExportButtons';
import FailedSamplesPanel from './FailedSamplesPanel';
import HeatmapPanel from './HeatmapPanel';
import RoundsPanel from './RoundsPanel';
import SamplesTable from './SamplesTable';
import TaskHeader from './TaskHeader';
import TaskProgress from './TaskProgress';
import TrendPanel from './TrendPanel';
import { useTaskData } from './useTaskData';

export default function TaskPage() {
  const { taskId } = useParams();
  const id = Number(taskId);
  if (!Number.isInteger(id) || id <= 0) {
    return (
      <EmptyState title={`"${taskId ?? ''}" is not a task number.`}>
        <Link to="/tasks">Go to the task list</Link>
      </EmptyState>
    );
  }
  // A new key per task resets all state when navigating to another task (e.g. a retry).
  return <TaskView key={id} taskId={id} />;
}

function TaskView({ taskId }: { taskId: number }) {
  const data = useTaskData(taskId);
  const { task, history } = data;
  const samples = useMemo(() => sortedSamples(history), [history]);
  const targets = useMemo(() => targetNames(samples, task?.target_properties ?? []), [samples, task?.target_properties]);
  const [pickedTarget, setPickedTarget] = useState<string | null>(null);
  const target = pickedTarget && targets.includes(pickedTarget) ? pickedTarget : (targets[0] ?? '');
  const [chosen, setChosen] = useState<Set<number> | null>(null);
  const shownSamples = useMemo(() => chosen ?? defaultTrendSelection(samples), [chosen, samples]);
  const [highlight, setHighlight] = useState<number | null>(null);

  const inspected = highlight == null ? undefined : samples.find((s) => s.sample_index === highlight);
  const closePanel = useCallback(() => setHighlight(null), []);

  const highlightSample = (index: number | null) => {
    setHighlight(index);
    if (index != null && !shownSamples.has(index)) setChosen(new Set([...shownSamples, index]));
  };

  if (!task) {
    if (data.taskError)
      return isNotFound(data.taskError) ? (
        <EmptyState title={`Task #${taskId} does not exist.`}>
          <Link to="/tasks">Go to the task list</Link>
        </EmptyState>
      ) : (
        <ErrorBanner error={data.taskError} />
      );
    return <Loading label={`Loading task #${taskId}…`} />;
  }

  const finished = isTerminal(task.status);
  const threshold = history?.global_info.convergence_threshold ?? task.convergence_threshold;

  return (
    <>
      <TaskHeader task={task} onTask={data.setTask} exportButtons={<ExportButtons taskId={taskId} disabled={!history} />} />
      <ErrorBanner error={data.taskError} />
      <TaskProgress task={task} info={history?.global_info ?? null} />
      <ErrorBanner error={data.historyError} />

      {!data.historyLoaded ? (
        <Loading label="Loading predictions…" />
      ) : samples.length === 0 ? (
        <section className="panel">
          <EmptyState title={finished ? 'This task has no predictions.' : 'No prediction yet.'}>
            {finished ? null : 'The first predictions appear here as soon as they arrive.'}
          </EmptyState>
        </section>
      ) : (
        <>
          <FailedSamplesPanel
            taskId={taskId}
            ownerId={task.owner_id}
            maxIterations={history?.global_info.max_iterations ?? task.max_iterations}
            samples={samples}
            finished={finished}
          />
          <AccuracyPanel accuracy={data.accuracy} error={data.accuracyError} finished={finished} />
          <TrendPanel
            samples={samples}
            targets={targets}
            target={target}
            onTarget={setPickedTarget}
            chosen={shownSamples}
            onChosen={setChosen}
            highlight={highlight}
            onHighlight={highlightSample}
          />
          <div className="grid-2">
            <HeatmapPanel samples={samples} targets={targets} threshold={threshold} highlight={highlight} onHighlight={highlightSample} />
            <ConvergenceStatsPanel stats={data.stats} />
          </div>
          <div style={{ height: '1rem' }} />
          <SamplesTable samples={samples} targets={targets} target={target} onTarget={setPickedTarget} highlight={highlight} onHighlight={highlightSample} />
          {inspected ? <RoundsPanel taskId={taskId} sample={inspected} onClose={closePanel} /> : null}
        </>
      )}
    </>
  );
}
