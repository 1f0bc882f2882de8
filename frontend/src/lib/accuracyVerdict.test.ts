import { describe, expect, it } from 'vitest';
import { accuracy } from '../test/fixtures';
import { overallSentence, targetSentence, targetVerdict } from './accuracyVerdict';

describe('accuracy verdict', () => {
  it('says iterating helped when the final MAE is lower than round 1', () => {
    const acc = accuracy(50, 30);
    expect(targetVerdict(acc.targets.UTS!)).toBe('helped');
    expect(overallSentence(acc)).toMatch(/^Yes/);
    expect(targetSentence('UTS', acc.targets.UTS!)).toContain('fell from 50 (round 1) to 30');
  });

  it('says it hurt, or made no difference', () => {
    expect(overallSentence(accuracy(30, 50))).toMatch(/^No — iterating made the predictions worse/);
    expect(overallSentence(accuracy(30, 30))).toMatch(/did not change/);
  });

  it('cannot compare a single round', () => {
    const acc = accuracy(30, 30, 1);
    expect(targetVerdict(acc.targets.UTS!)).toBe('unknown');
    expect(targetSentence('UTS', acc.targets.UTS!)).toMatch(/only one round/);
  });

  it('explains missing ground truth', () => {
    expect(overallSentence({ task_id: 1, has_ground_truth: false, targets: {}, scatter: {}, interval_coverage: {} })).toMatch(/no measured values/);
  });
});
