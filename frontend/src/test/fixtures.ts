/** Small hand-made API documents for the unit tests. */
import type { Accuracy, IterationHistory, Me, SampleHistory, Task } from '../api/types';

export function sample(index: number, partial: Partial<SampleHistory> = {}): SampleHistory {
  return {
    sample_index: index,
    sample_id: `S${index + 1}`,
    composition: {},
    convergence_status: 'converged',
    converged_at_iteration: 2,
    targets: {},
    final_predictions: {},
    intervals: {},
    failed_iterations: [],
    errors: [],
    ...partial,
  };
}

export function history(samples: SampleHistory[], threshold = 0.01): IterationHistory {
  return {
    global_info: {
      task_id: 1,
      total_iterations: 3,
      max_iterations: 5,
      convergence_threshold: threshold,
      early_stopped: true,
      early_stop_reason: 'all_samples_converged',
      total_samples: samples.length,
      converged_samples: samples.filter((s) => s.convergence_status === 'converged').length,
      failed_samples: samples.filter((s) => s.convergence_status === 'failed').length,
      created_at: '2026-01-01T00:00:00Z',
      completed_at: '2026-01-01T00:10:00Z',
      total_duration_seconds: 600,
    },
    // keys deliberately out of order: consumers must sort by sample_index
    samples: Object.fromEntries([...samples].reverse().map((s) => [`sample_${s.sample_index}`, s])),
    iteration_summaries: [],
    cursor: '2026-01-01T00:10:00Z',
  };
}

/** Three samples: one converged at round 3, one failed at round 2, one still moving. */
export const threeSamples: SampleHistory[] = [
  sample(0, {
    sample_id: 'A-1',
    converged_at_iteration: 3,
    targets: {
      UTS: { iterations: [850, 855, 857], relative_changes: [null, 0.0059, 0.0023], convergence_status: 'converged', converged_at_iteration: 3 },
      El: { iterations: [10, 10.05, 10.06], relative_changes: [null, 0.005, 0.001], convergence_status: 'converged', converged_at_iteration: 2 },
    },
    final_predictions: { UTS: 857, El: 10.06 },
  }),
  sample(1, {
    sample_id: 'A-2',
    convergence_status: 'failed',
    converged_at_iteration: null,
    targets: {
      UTS: { iterations: [600], relative_changes: [null], convergence_status: 'not_converged', converged_at_iteration: null },
      El: { iterations: [20], relative_changes: [null], convergence_status: 'not_converged', converged_at_iteration: null },
    },
    final_predictions: { UTS: 600, El: 20 },
    failed_iterations: [2],
    errors: [{ iteration: 2, error_type: 'api_timeout', message: 'timed out after 3 attempts', attempts: 3 }],
  }),
  sample(2, {
    sample_id: 'A-3',
    convergence_status: 'not_converged',
    converged_at_iteration: null,
    targets: {
      UTS: { iterations: [100, 150, 200], relative_changes: [null, 0.5, 0.3333], convergence_status: 'not_converged', converged_at_iteration: null },
      El: { iterations: [5, 5, 5], relative_changes: [null, 0, 0], convergence_status: 'converged', converged_at_iteration: 2 },
    },
    final_predictions: { UTS: 200, El: 5 },
  }),
];

export function accuracy(firstMae: number, finalMae: number, rounds = 3): Accuracy {
  const r = Array.from({ length: rounds }, (_, i) => ({
    iteration: i + 1,
    n: 8,
    mae: firstMae + ((finalMae - firstMae) * i) / Math.max(1, rounds - 1),
    rmse: 1.2 * firstMae,
    r2: 0.5,
  }));
  return {
    task_id: 1,
    has_ground_truth: true,
    targets: {
      UTS: { rounds: r, first: { n: 8, mae: firstMae, rmse: 1.2 * firstMae, r2: 0.5 }, final: { n: 8, mae: finalMae, rmse: 1.2 * finalMae, r2: 0.6 }, improved: finalMae < firstMae },
    },
    scatter: {
      UTS: [
        { sample_index: 0, sample_id: 'A-1', predicted: 850, measured: 870 },
        { sample_index: 1, sample_id: 'A-2', predicted: 600, measured: 640 },
      ],
    },
    interval_coverage: {},
  };
}

export function task(partial: Partial<Task> = {}): Task {
  return {
    task_id: 5,
    task_name: 'MPEA run',
    task_description: null,
    owner_id: null,
    status: 'running',
    enable_iteration: true,
    llm_provider: 'baseline',
    llm_model: 'knn',
    is_baseline: true,
    provider_label: 'baseline',
    target_properties: ['UTS'],
    max_iterations: 3,
    convergence_threshold: 0.01,
    early_stop: true,
    max_workers: 4,
    temperature: 0,
    current_iteration: 1,
    progress: 0.3,
    converged_samples: 0,
    total_samples: 3,
    failed_samples: 0,
    continue_from_task_id: null,
    early_stop_reason: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    started_at: '2026-01-01T00:00:00Z',
    completed_at: null,
    error: null,
    priority: 0,
    max_cost_usd: null,
    usage: { llm_calls: 0, cache_hits: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
    queue_position: null,
    calibration_samples: 0,
    calibration: null,
    ...partial,
  };
}

export function me(role: 'admin' | 'member' | 'viewer', authRequired = true): Me {
  return authRequired
    ? { id: role === 'admin' ? 1 : role === 'member' ? 2 : 3, username: role === 'admin' ? 'alice' : role === 'member' ? 'bob' : 'carol', role, active: true, auth_required: true }
    : { id: null, username: 'local', role: 'admin', active: true, auth_required: false };
}
