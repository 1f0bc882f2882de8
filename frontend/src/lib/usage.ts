/** How a task's `usage` and queue position read on the pages. */
import type { Usage } from '../api/types';

export interface UsageCells {
  calls: string;
  cacheHits: string;
  tokens: string;
  cost: string;
}

/** 950 → "950", 12 345 → "12.3k", 4 200 000 → "4.2M". */
export function formatCount(value: number): string {
  if (value < 1000) return String(value);
  if (value < 1_000_000) return `${Number((value / 1000).toFixed(1))}k`;
  return `${Number((value / 1_000_000).toFixed(1))}M`;
}

/** Dollars; `null` with calls made means litellm has no price for the model. */
export function formatCost(cost: number | null | undefined, calls = 0): string {
  if (cost == null) return calls > 0 ? 'unpriced' : '–';
  if (cost === 0) return '$0';
  return cost < 0.01 ? `$${cost.toFixed(4)}` : `$${cost.toFixed(2)}`;
}

export function usageCells(usage: Usage | null | undefined): UsageCells {
  if (!usage) return { calls: '–', cacheHits: '–', tokens: '–', cost: '–' };
  return {
    calls: formatCount(usage.llm_calls),
    cacheHits: formatCount(usage.cache_hits),
    tokens: `${formatCount(usage.prompt_tokens)} + ${formatCount(usage.completion_tokens)}`,
    cost: formatCost(usage.cost_usd, usage.llm_calls),
  };
}

/** "next" for the head of the queue, "#3" behind two others; null unless pending. */
export function queueLabel(position: number | null | undefined): string | null {
  if (position == null) return null;
  return position === 1 ? 'next' : `#${position}`;
}
