import { describe, expect, it } from 'vitest';
import { history, sample, threeSamples } from '../test/fixtures';
import {
  ALL_TARGETS,
  changeLevel,
  defaultTrendSelection,
  errorTypeCounts,
  failedSamples,
  filterRows,
  heatmapData,
  mergeHistory,
  retryableSamples,
  sampleRows,
  sortRows,
  sortedSamples,
  storedRounds,
  targetNames,
  trendData,
} from './historyTransforms';

const samples = sortedSamples(history(threeSamples));

describe('history → samples', () => {
  it('orders samples by index and lists targets', () => {
    expect(samples.map((s) => s.sample_id)).toEqual(['A-1', 'A-2', 'A-3']);
    expect(targetNames(samples, ['UTS'])).toEqual(['UTS', 'El']);
    expect(sortedSamples(null)).toEqual([]);
  });
});

describe('mergeHistory', () => {
  it('replaces changed samples, keeps the others, takes the newer task-wide parts', () => {
    const before = history(threeSamples);
    const moved = sample(2, { sample_id: 'A-3-moved' });
    const changes = { ...history([moved]), cursor: '2026-01-01T00:12:00Z' };
    changes.global_info = { ...changes.global_info, total_iterations: 4 };
    const merged = mergeHistory(before, changes);
    expect(sortedSamples(merged).map((s) => s.sample_id)).toEqual(['A-1', 'A-2', 'A-3-moved']);
    expect(merged.cursor).toBe('2026-01-01T00:12:00Z');
    expect(merged.global_info.total_iterations).toBe(4);
    expect(before.samples.sample_2?.sample_id).toBe('A-3'); // the earlier answer is untouched
  });

  it('takes the first answer as it is', () => {
    const first = history(threeSamples);
    expect(mergeHistory(null, first)).toBe(first);
  });
});

describe('trendData', () => {
  it('makes one series per sample, padded with null to the longest run', () => {
    const t = trendData(samples, 'UTS');
    expect(t.rounds).toEqual([1, 2, 3]);
    expect(t.series).toHaveLength(3);
    expect(t.series[0]).toEqual({ sampleIndex: 0, name: 'A-1', data: [850, 855, 857] });
    expect(t.series[1]?.data).toEqual([600, null, null]);
  });

  it('keeps only the chosen samples', () => {
    const t = trendData(samples, 'El', new Set([2]));
    expect(t.series.map((s) => s.name)).toEqual(['A-3']);
    expect(t.series[0]?.data).toEqual([5, 5, 5]);
  });

  it('handles a target a sample lacks', () => {
    const t = trendData([sample(0)], 'UTS');
    expect(t.rounds).toEqual([]);
    expect(t.series[0]?.data).toEqual([]);
  });

  it('picks failed samples first by default, up to the limit', () => {
    expect([...defaultTrendSelection(samples, 2)]).toEqual([1, 0]);
  });
});

describe('heatmapData', () => {
  it('has a cell per sample and round from round 2, values are the relative change', () => {
    const h = heatmapData(samples, 'UTS');
    expect(h.rounds).toEqual([1, 2, 3]);
    expect(h.sampleLabels).toEqual(['A-1', 'A-2', 'A-3']);
    expect(h.cells).toEqual([
      [1, 0, 0.0059],
      [2, 0, 0.0023],
      [1, 2, 0.5],
      [2, 2, 0.3333],
    ]);
    expect(h.maxChange).toBe(0.5);
  });

  it('uses the largest change over all targets', () => {
    const h = heatmapData(samples, ALL_TARGETS);
    expect(h.cells.filter(([, row]) => row === 0)).toEqual([
      [1, 0, 0.0059],
      [2, 0, 0.0023],
    ]);
  });

  it('colours against the threshold: strictly below converges', () => {
    expect(changeLevel(0.0099, 0.01)).toBe('converged');
    expect(changeLevel(0.01, 0.01)).toBe('close');
    expect(changeLevel(0.049, 0.01)).toBe('close');
    expect(changeLevel(0.05, 0.01)).toBe('moving');
  });
});

describe('table rows', () => {
  const rows = sampleRows(samples, 'UTS');

  it('derives initial, final, change and the last error', () => {
    expect(rows[0]).toMatchObject({ id: 'A-1', initial: 850, final: 857, change: 7, rounds: 3, convergedAt: 3, lastRelChange: 0.0023 });
    expect(rows[1]).toMatchObject({ status: 'failed', errorType: 'api_timeout', rounds: 1, change: 0, lastRelChange: null });
  });

  it('sorts both ways with nulls last', () => {
    expect(sortRows(rows, { key: 'change', dir: 'desc' }).map((r) => r.id)).toEqual(['A-3', 'A-1', 'A-2']);
    expect(sortRows(rows, { key: 'convergedAt', dir: 'desc' }).map((r) => r.id)).toEqual(['A-1', 'A-2', 'A-3']);
    expect(sortRows(rows, { key: 'id', dir: 'desc' }).map((r) => r.id)).toEqual(['A-3', 'A-2', 'A-1']);
  });

  it('filters by text and status', () => {
    expect(filterRows(rows, { text: 'a-3', status: '' }).map((r) => r.id)).toEqual(['A-3']);
    expect(filterRows(rows, { text: 'timeout', status: '' }).map((r) => r.id)).toEqual(['A-2']);
    expect(filterRows(rows, { text: '', status: 'converged' }).map((r) => r.id)).toEqual(['A-1']);
  });
});

describe('failures', () => {
  it('lists failed samples with their error types', () => {
    const failed = failedSamples(samples);
    expect(failed).toEqual([{ index: 1, id: 'A-2', errorTypes: ['api_timeout'], lastMessage: 'timed out after 3 attempts', failedAt: 2 }]);
    expect(errorTypeCounts(failed)).toEqual([['api_timeout', 1]]);
  });
});

describe('retryable samples', () => {
  it('counts the rounds a sample has stored', () => {
    expect(samples.map(storedRounds)).toEqual([3, 1, 3]);
    expect(storedRounds(sample(9, { targets: {} }))).toBe(0);
  });

  it('adds, once the task has finished, the samples stopped before the round limit', () => {
    expect(retryableSamples(samples, 5, true)).toEqual([
      { index: 1, id: 'A-2', errorTypes: ['api_timeout'], lastMessage: 'timed out after 3 attempts', failedAt: 2, kind: 'failed', rounds: 1 },
      { index: 2, id: 'A-3', errorTypes: [], lastMessage: null, failedAt: null, kind: 'stopped', rounds: 3 },
    ]);
  });

  it('leaves out a sample that ran every round, and every unfinished one while the task runs', () => {
    expect(retryableSamples(samples, 3, true).map((r) => [r.id, r.kind])).toEqual([['A-2', 'failed']]);
    expect(retryableSamples(samples, 5, false).map((r) => [r.id, r.kind])).toEqual([['A-2', 'failed']]);
  });

  it('counts a sample cancelled before its first round as stopped', () => {
    const unstarted = sample(4, { sample_id: 'A-5', convergence_status: 'not_converged', converged_at_iteration: null, targets: {} });
    expect(retryableSamples([unstarted], 5, true)).toMatchObject([{ id: 'A-5', kind: 'stopped', rounds: 0 }]);
  });
});
