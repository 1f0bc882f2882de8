import { describe, expect, it } from 'vitest';
import { formatCost, formatCount, queueLabel, usageCells } from './usage';

describe('usage', () => {
  it('abbreviates large counts', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(4_200_000)).toBe('4.2M');
  });

  it('tells an unpriced model from a free run', () => {
    expect(formatCost(null, 12)).toBe('unpriced');
    expect(formatCost(null, 0)).toBe('–');
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(0.00123)).toBe('$0.0012');
    expect(formatCost(3.456)).toBe('$3.46');
  });

  it('renders the cells of a task', () => {
    const cells = usageCells({ llm_calls: 40, cache_hits: 8, prompt_tokens: 52_000, completion_tokens: 1_200, cost_usd: null });
    expect(cells).toEqual({ calls: '40', cacheHits: '8', tokens: '52k + 1.2k', cost: 'unpriced' });
    expect(usageCells(null).calls).toBe('–');
  });

  it('names the queue position only while pending', () => {
    expect(queueLabel(null)).toBeNull();
    expect(queueLabel(1)).toBe('next');
    expect(queueLabel(3)).toBe('#3');
  });
});
