import { describe, expect, it } from 'vitest';
import type { ComparedTask } from '../../api/types';
import { accuracy } from '../../test/fixtures';
import { bestByTarget, comparedTargets, parseIds, targetCells } from './compareRows';

function compared(id: number, firstMae: number, finalMae: number, coverage: number | null = null): ComparedTask {
  return {
    task_id: id,
    task_name: `t${id}`,
    llm_provider: id === 1 ? 'baseline' : 'openai',
    llm_model: 'm',
    status: 'completed',
    test_file_path: 'datasets/a.csv',
    added_as_baseline: false,
    usage: { llm_calls: 0, cache_hits: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
    duration_seconds: 3,
    accuracy: { ...accuracy(firstMae, finalMae), interval_coverage: { UTS: coverage } },
    convergence: {
      task_id: id,
      total_samples: 8,
      converged_samples: 8,
      convergence_rate: 1,
      average_convergence_iteration: 2,
      fastest_convergence_iteration: 2,
      slowest_convergence_iteration: 2,
      samples_by_convergence_speed: { fast: 8, medium: 0, slow: 0 },
    },
  };
}

describe('compare rows', () => {
  it('reads round-1 and final scores and coverage per target, and marks the best final MAE', () => {
    const tasks = [compared(1, 40, 40, 0.875), compared(2, 50, 30), compared(3, 20, 30)];
    expect(comparedTargets(tasks)).toEqual(['UTS']);
    expect(targetCells(tasks[0]!, 'UTS')).toMatchObject({ firstMae: 40, finalMae: 40, coverage: 0.875 });
    expect(targetCells(tasks[0]!, 'El')).toEqual({ firstMae: null, finalMae: null, finalRmse: null, finalR2: null, coverage: null });
    expect(bestByTarget(tasks, ['UTS', 'El'])).toEqual({ UTS: 2, El: null });
  });

  it('parses the ids of the address, once each', () => {
    expect(parseIds('3, 1,x,3,-2,0')).toEqual([3, 1]);
    expect(parseIds(null)).toEqual([]);
  });
});
