/** Turn the iteration-history document into what the charts and the table draw. */
import type { IterationHistory, SampleHistory } from '../api/types';

export function sortedSamples(history: IterationHistory | null | undefined): SampleHistory[] {
  if (!history) return [];
  return Object.values(history.samples).sort((a, b) => a.sample_index - b.sample_index);
}

/**
 * Apply an answer asked `since` an earlier cursor: its samples replace those of `previous` (by
 * key; unchanged ones are kept), the task-wide parts and the cursor are the newer ones.
 */
export function mergeHistory(previous: IterationHistory | null, changes: IterationHistory): IterationHistory {
  if (!previous) return changes;
  return { ...changes, samples: { ...previous.samples, ...changes.samples } };
}

export function targetNames(samples: readonly SampleHistory[], declared: readonly string[] = []): string[] {
  const names = new Set<string>(declared);
  for (const s of samples) for (const t of Object.keys(s.targets)) names.add(t);
  return [...names];
}

export function roundCount(samples: readonly SampleHistory[]): number {
  let max = 0;
  for (const s of samples) for (const t of Object.values(s.targets)) max = Math.max(max, t.iterations.length);
  return max;
}

// ---------------------------------------------------------------- trend chart

export interface TrendSeries {
  sampleIndex: number;
  name: string;
  data: (number | null)[];
}

export interface TrendData {
  rounds: number[];
  series: TrendSeries[];
}

/** One line per chosen sample: the target's prediction at every round (null where none). */
export function trendData(samples: readonly SampleHistory[], target: string, chosen?: ReadonlySet<number>): TrendData {
  const picked = chosen ? samples.filter((s) => chosen.has(s.sample_index)) : samples;
  const n = roundCount(picked);
  const rounds = Array.from({ length: n }, (_, i) => i + 1);
  const series = picked.map((s) => {
    const values = s.targets[target]?.iterations ?? [];
    return {
      sampleIndex: s.sample_index,
      name: s.sample_id,
      data: rounds.map((_, i) => {
        const v = values[i];
        return v == null || Number.isNaN(v) ? null : v;
      }),
    };
  });
  return { rounds, series };
}

/** Default pick for the trend chart: the first `limit` samples, failed ones first so they are seen. */
export function defaultTrendSelection(samples: readonly SampleHistory[], limit = 30): Set<number> {
  const failed = samples.filter((s) => s.convergence_status === 'failed');
  const rest = samples.filter((s) => s.convergence_status !== 'failed');
  return new Set([...failed, ...rest].slice(0, limit).map((s) => s.sample_index));
}

// ---------------------------------------------------------------- heatmap

export const ALL_TARGETS = '__all__';

export type ChangeLevel = 'converged' | 'close' | 'moving';

/** Below the threshold: converged; under 5× the threshold: close; otherwise still moving. */
export function changeLevel(change: number, threshold: number): ChangeLevel {
  if (change < threshold) return 'converged';
  if (change < threshold * 5) return 'close';
  return 'moving';
}

export interface HeatmapData {
  rounds: number[];
  /** Row labels, bottom-up order as ECharts draws a category y axis. */
  sampleLabels: string[];
  sampleIndices: number[];
  /** [roundIndex, rowIndex, relativeChange] – round 1 has no change and is left out. */
  cells: [number, number, number][];
  maxChange: number;
}

/**
 * Relative change per sample and round. With ALL_TARGETS the cell holds the largest change
 * over the targets (a sample converges when all its targets are below the threshold).
 */
export function heatmapData(samples: readonly SampleHistory[], target: string): HeatmapData {
  const n = roundCount(samples);
  const rounds = Array.from({ length: n }, (_, i) => i + 1);
  const cells: [number, number, number][] = [];
  let maxChange = 0;
  samples.forEach((s, row) => {
    const targets = target === ALL_TARGETS ? Object.values(s.targets) : [s.targets[target]].filter((t) => t != null);
    for (let round = 1; round < n; round++) {
      let cell: number | null = null;
      for (const t of targets) {
        const v = t.relative_changes[round];
        if (v != null && !Number.isNaN(v)) cell = cell == null ? v : Math.max(cell, v);
      }
      if (cell != null) {
        cells.push([round, row, cell]);
        maxChange = Math.max(maxChange, cell);
      }
    }
  });
  return {
    rounds,
    sampleLabels: samples.map((s) => s.sample_id),
    sampleIndices: samples.map((s) => s.sample_index),
    cells,
    maxChange,
  };
}

// ---------------------------------------------------------------- table

export interface SampleRow {
  index: number;
  id: string;
  status: string;
  convergedAt: number | null;
  rounds: number;
  initial: number | null;
  final: number | null;
  /** final − initial */
  change: number | null;
  /** latest relative change of the target */
  lastRelChange: number | null;
  errorType: string | null;
  errorMessage: string | null;
  /** the final prediction's calibrated interval, when the task has one */
  lower: number | null;
  upper: number | null;
  intervalWidth: number | null;
}

function lastNonNull<T>(values: readonly (T | null)[]): T | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v != null) return v;
  }
  return null;
}

export function sampleRows(samples: readonly SampleHistory[], target: string): SampleRow[] {
  return samples.map((s) => {
    const t = s.targets[target];
    const values = t?.iterations ?? [];
    const initial = values.find((v) => v != null) ?? null;
    const fromFinal = s.final_predictions[target];
    const final = fromFinal ?? lastNonNull(values);
    const lastError = s.errors.length ? s.errors[s.errors.length - 1] : undefined;
    const interval = s.intervals?.[target];
    return {
      index: s.sample_index,
      id: s.sample_id,
      status: s.convergence_status,
      convergedAt: s.converged_at_iteration,
      rounds: values.filter((v) => v != null).length,
      initial,
      final,
      change: initial != null && final != null ? final - initial : null,
      lastRelChange: t ? lastNonNull(t.relative_changes) : null,
      errorType: lastError?.error_type ?? null,
      errorMessage: lastError?.message ?? null,
      lower: interval?.lower ?? null,
      upper: interval?.upper ?? null,
      intervalWidth: interval ? interval.upper - interval.lower : null,
    };
  });
}

export type SortKey = keyof SampleRow;
export interface SortState {
  key: SortKey;
  dir: 'asc' | 'desc';
}

/** Stable sort; nulls always last. */
export function sortRows(rows: readonly SampleRow[], sort: SortState): SampleRow[] {
  const factor = sort.dir === 'asc' ? 1 : -1;
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => {
      const x = a.row[sort.key];
      const y = b.row[sort.key];
      if (x == null && y == null) return a.i - b.i;
      if (x == null) return 1;
      if (y == null) return -1;
      let cmp: number;
      if (typeof x === 'number' && typeof y === 'number') cmp = x - y;
      else cmp = String(x).localeCompare(String(y), undefined, { numeric: true });
      return cmp === 0 ? a.i - b.i : cmp * factor;
    })
    .map(({ row }) => row);
}

export interface RowFilter {
  text: string;
  status: string;
}

export function filterRows(rows: readonly SampleRow[], filter: RowFilter): SampleRow[] {
  const text = filter.text.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (!filter.status || r.status === filter.status) &&
      (!text || r.id.toLowerCase().includes(text) || String(r.index) === text || (r.errorType ?? '').includes(text)),
  );
}

// ---------------------------------------------------------------- failures

export interface FailedSample {
  index: number;
  id: string;
  errorTypes: string[];
  lastMessage: string | null;
  failedAt: number | null;
}

export function failedSamples(samples: readonly SampleHistory[]): FailedSample[] {
  return samples
    .filter((s) => s.convergence_status === 'failed')
    .map((s) => ({
      index: s.sample_index,
      id: s.sample_id,
      errorTypes: [...new Set(s.errors.map((e) => e.error_type))],
      lastMessage: s.errors.length ? (s.errors[s.errors.length - 1]?.message ?? null) : null,
      failedAt: s.failed_iterations.length ? Math.max(...s.failed_iterations) : null,
    }));
}

/** How many rounds a sample has stored (one prediction per round; a failed round stores none). */
export function storedRounds(sample: SampleHistory): number {
  let rounds = 0;
  for (const t of Object.values(sample.targets)) rounds = Math.max(rounds, t.iterations.length);
  return rounds;
}

/** A sample `retry-failed` accepts: one that failed, or one a cancel, a credential error or the budget stopped early. */
export interface RetryableSample extends FailedSample {
  kind: 'failed' | 'stopped';
  /** rounds stored, from which a retry continues */
  rounds: number;
}

/**
 * The samples a finished task may retry, in sample order: the failed ones, and those that ended
 * `not_converged` with fewer rounds than `maxIterations` (stopped early, as the server counts).
 * While the task runs only the failed ones: its other samples are still under way.
 */
export function retryableSamples(samples: readonly SampleHistory[], maxIterations: number, finished: boolean): RetryableSample[] {
  const out: RetryableSample[] = [];
  const failed = new Map(failedSamples(samples).map((f) => [f.index, f]));
  for (const s of samples) {
    const rounds = storedRounds(s);
    const asFailed = failed.get(s.sample_index);
    if (asFailed) out.push({ ...asFailed, kind: 'failed', rounds });
    else if (finished && s.convergence_status === 'not_converged' && rounds < maxIterations)
      out.push({ index: s.sample_index, id: s.sample_id, errorTypes: [], lastMessage: null, failedAt: null, kind: 'stopped', rounds });
  }
  return out;
}

export function errorTypeCounts(failed: readonly FailedSample[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const f of failed) for (const t of f.errorTypes.length ? f.errorTypes : ['unknown_error']) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}
