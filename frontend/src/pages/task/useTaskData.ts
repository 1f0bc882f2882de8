/**
 * Everything the task page shows, kept fresh: the task every 2 s until it reaches a terminal
 * status; history and statistics whenever the task moved; accuracy once it finished.
 */
import { useCallback, useRef, useState } from 'react';
import { ApiError } from '../../api/client';
import { api } from '../../api/endpoints';
import type { Accuracy, ConvergenceStats, IterationHistory, Task } from '../../api/types';
import { mergeHistory } from '../../lib/historyTransforms';
import { isTerminal } from '../../lib/taskStatus';
import { usePolling } from '../../lib/usePolling';

export const POLL_MS = 2000;

export interface TaskData {
  task: Task | null;
  taskError: unknown;
  history: IterationHistory | null;
  /** true once the first history request has answered (even with "no prediction yet") */
  historyLoaded: boolean;
  historyError: unknown;
  stats: ConvergenceStats | null;
  accuracy: Accuracy | null;
  accuracyError: unknown;
  /** Replace the task (e.g. with the answer to cancel) and refresh what depends on it. */
  setTask: (task: Task) => void;
}

function changeKey(t: Task): string {
  return [t.status, t.updated_at, t.current_iteration, t.converged_samples, t.failed_samples, t.progress].join('|');
}

function mayHavePredictions(t: Task): boolean {
  if (isTerminal(t.status)) return t.current_iteration > 0 || t.converged_samples + t.failed_samples > 0;
  return t.progress > 0 || t.current_iteration > 0;
}

function noPredictionYet(err: unknown): boolean {
  return err instanceof ApiError && err.code === 'ITERATION_HISTORY_NOT_FOUND';
}

export function useTaskData(taskId: number): TaskData {
  const [task, setTaskState] = useState<Task | null>(null);
  const [taskError, setTaskError] = useState<unknown>(null);
  const [history, setHistory] = useState<IterationHistory | null>(null);
  const [historyLoaded, setHistoryLoaded] = useState(false);
  const [historyError, setHistoryError] = useState<unknown>(null);
  const [stats, setStats] = useState<ConvergenceStats | null>(null);
  const [accuracy, setAccuracy] = useState<Accuracy | null>(null);
  const [accuracyError, setAccuracyError] = useState<unknown>(null);
  const [loadedKey, setLoadedKey] = useState('');
  const loadedKeyRef = useRef('');
  // The history shown so far: later polls ask only for samples that changed since its cursor.
  const historyRef = useRef<{ taskId: number; history: IterationHistory } | null>(null);

  const loadDetails = async (t: Task, signal: AbortSignal) => {
    const key = changeKey(t);
    if (key === loadedKeyRef.current) return;
    const terminal = isTerminal(t.status);
    if (!mayHavePredictions(t)) {
      // Nothing stored yet: do not ask (the 404 would only add noise to the console).
      setHistory(null);
      setHistoryLoaded(true);
      loadedKeyRef.current = key;
      setLoadedKey(key);
      return;
    }
    // History first: it is what the page draws. Statistics and accuracy are computed on the
    // server from the same rows; asking for them afterwards keeps the first paint early.
    const previous = historyRef.current?.taskId === taskId ? historyRef.current.history : null;
    const [h] = await Promise.allSettled([api.getHistory(taskId, signal, previous?.cursor)]);
    if (signal.aborted) return;
    if (h.status === 'fulfilled') {
      const merged = mergeHistory(previous, h.value);
      historyRef.current = { taskId, history: merged };
      setHistory(merged);
      setHistoryError(null);
    } else if (noPredictionYet(h.reason)) {
      setHistory(null);
      setHistoryError(null);
    } else {
      setHistoryError(h.reason);
    }
    setHistoryLoaded(true);
    const [s, a] = await Promise.allSettled([
      api.getConvergenceStats(taskId, signal),
      terminal ? api.getAccuracy(taskId, signal) : Promise.resolve(null),
    ]);
    if (signal.aborted) return;
    if (s.status === 'fulfilled') setStats(s.value);
    if (a.status === 'fulfilled') {
      if (a.value) setAccuracy(a.value);
      setAccuracyError(null);
    } else {
      setAccuracyError(a.reason);
    }
    loadedKeyRef.current = key;
    setLoadedKey(key);
  };

  const tick = async (signal: AbortSignal) => {
    let t: Task;
    try {
      t = await api.getTask(taskId, signal);
    } catch (err) {
      if (!signal.aborted) setTaskError(err);
      return;
    }
    if (signal.aborted) return;
    setTaskState(t);
    setTaskError(null);
    await loadDetails(t, signal);
  };

  const settled = task != null && isTerminal(task.status) && loadedKey === changeKey(task);
  const fatal = taskError instanceof ApiError && taskError.status === 404;
  usePolling(tick, POLL_MS, !settled && !fatal, taskId);

  const setTask = useCallback((t: Task) => setTaskState(t), []);

  return { task, taskError, history, historyLoaded, historyError, stats, accuracy, accuracyError, setTask };
}
