/** What the compare page shows of each task, computed from GET /api/compare. */
import type { ComparedTask } from '../../api/types';

export interface TargetCells {
  firstMae: number | null;
  finalMae: number | null;
  finalRmse: number | null;
  finalR2: number | null;
  coverage: number | null;
}

export function comparedTargets(tasks: readonly ComparedTask[]): string[] {
  const seen: string[] = [];
  for (const t of tasks) for (const name of Object.keys(t.accuracy.targets)) if (!seen.includes(name)) seen.push(name);
  return seen;
}

export function targetCells(task: ComparedTask, target: string): TargetCells {
  const acc = task.accuracy.targets[target];
  return {
    firstMae: acc?.first.mae ?? null,
    finalMae: acc?.final.mae ?? null,
    finalRmse: acc?.final.rmse ?? null,
    finalR2: acc?.final.r2 ?? null,
    coverage: task.accuracy.interval_coverage[target] ?? null,
  };
}

/** Per target, the task id with the lowest final MAE (ties: the first), for highlighting. */
export function bestByTarget(tasks: readonly ComparedTask[], targets: readonly string[]): Record<string, number | null> {
  const best: Record<string, number | null> = {};
  for (const target of targets) {
    let winner: { id: number; mae: number } | null = null;
    for (const t of tasks) {
      const mae = targetCells(t, target).finalMae;
      if (mae != null && (winner == null || mae < winner.mae)) winner = { id: t.task_id, mae };
    }
    best[target] = winner?.id ?? null;
  }
  return best;
}

export function parseIds(raw: string | null): number[] {
  const ids = (raw ?? '')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  return [...new Set(ids)];
}
