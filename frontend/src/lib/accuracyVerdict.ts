/** Plain-language answer to "did iterating make the predictions better?". */
import type { Accuracy, TargetAccuracy } from '../api/types';
import { formatNumber } from './format';

export type Verdict = 'helped' | 'hurt' | 'same' | 'unknown';

const RELATIVE_TOLERANCE = 1e-3;

export function targetVerdict(acc: TargetAccuracy): Verdict {
  const first = acc.first?.mae ?? acc.rounds[0]?.mae ?? null;
  const last = acc.final?.mae ?? null;
  if (first == null || last == null) return 'unknown';
  if (acc.rounds.length < 2) return 'unknown';
  const diff = last - first;
  if (Math.abs(diff) <= RELATIVE_TOLERANCE * Math.max(Math.abs(first), 1e-9)) return 'same';
  return diff < 0 ? 'helped' : 'hurt';
}

export function targetSentence(target: string, acc: TargetAccuracy): string {
  const first = acc.first?.mae ?? acc.rounds[0]?.mae ?? null;
  const last = acc.final?.mae ?? null;
  switch (targetVerdict(acc)) {
    case 'helped':
      return `${target}: iterating helped — MAE fell from ${formatNumber(first)} (round 1) to ${formatNumber(last)} (final).`;
    case 'hurt':
      return `${target}: iterating made it worse — MAE rose from ${formatNumber(first)} (round 1) to ${formatNumber(last)} (final).`;
    case 'same':
      return `${target}: iterating made no difference — MAE stayed at ${formatNumber(last)}.`;
    default:
      return acc.rounds.length < 2
        ? `${target}: only one round ran, so there is nothing to compare (MAE ${formatNumber(last ?? first)}).`
        : `${target}: not enough scored samples to compare rounds.`;
  }
}

export function overallSentence(accuracy: Accuracy): string {
  const entries = Object.entries(accuracy.targets);
  if (!accuracy.has_ground_truth || entries.length === 0)
    return 'The test file had no measured values for the targets, so accuracy cannot be judged.';
  const verdicts = entries.map(([, acc]) => targetVerdict(acc));
  const helped = verdicts.filter((v) => v === 'helped').length;
  const hurt = verdicts.filter((v) => v === 'hurt').length;
  const known = verdicts.filter((v) => v !== 'unknown').length;
  if (known === 0) return 'Only one round has been scored so far: no comparison between rounds yet.';
  if (helped === known) return `Yes — iterating improved the predictions for ${known === 1 ? 'the target' : `all ${known} targets`} (lower MAE after the final round than after round 1).`;
  if (hurt === known) return `No — iterating made the predictions worse for ${known === 1 ? 'the target' : `all ${known} targets`} (higher MAE after the final round than after round 1).`;
  if (helped === 0 && hurt === 0) return 'No — iterating did not change the accuracy: the final predictions score the same as round 1.';
  return `Mixed — iterating helped for ${helped} of ${known} targets and made ${hurt} worse (MAE after the final round vs round 1).`;
}
