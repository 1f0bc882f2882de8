import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoundDetail } from '../../api/types';
import { json, mockFetch } from '../../test/http';
import { threeSamples } from '../../test/fixtures';
import RoundsPanel, { sampleRounds } from './RoundsPanel';

function round(iteration: number, partial: Partial<RoundDetail> = {}): RoundDetail {
  return {
    task_id: 7,
    sample_index: 1,
    sample_id: 'A-2',
    iteration,
    messages: [{ role: 'user', content: `prompt of round ${iteration}` }],
    raw_answer: '{"predictions": {"UTS": 600}}',
    reasoning: { reasoning: 'close to R3' },
    predictions: { UTS: 600, El: 20 },
    prompt_tokens: 900,
    completion_tokens: 40,
    cost_usd: null,
    latency_ms: 812.4,
    attempts: 1,
    model: 'gpt-x',
    cached: false,
    error: null,
    ...partial,
  };
}

afterEach(() => vi.unstubAllGlobals());

describe('RoundsPanel', () => {
  it('lists stored and failed rounds', () => {
    expect(sampleRounds(threeSamples[0]!)).toEqual([1, 2, 3]);
    expect(sampleRounds(threeSamples[1]!)).toEqual([1, 2]);
  });

  it('opens on the last round, shows its error, and switches to an earlier round', async () => {
    const failed = round(2, {
      messages: [{ role: 'user', content: 'prompt of round 2' }],
      raw_answer: null,
      reasoning: null,
      predictions: {},
      attempts: 3,
      error: { error_type: 'api_timeout', message: 'timed out after 3 attempts' },
    });
    mockFetch({
      'GET /api/results/7/samples/1/rounds/2': () => json(200, failed),
      'GET /api/results/7/samples/1/rounds/1': () => json(200, round(1)),
    });
    const onClose = vi.fn();
    render(<RoundsPanel taskId={7} sample={threeSamples[1]!} onClose={onClose} />);
    expect(await screen.findByText(/timed out after 3 attempts/)).toBeInTheDocument();
    expect(screen.getByTestId('round-message')).toHaveTextContent('prompt of round 2');

    await userEvent.click(screen.getByRole('tab', { name: 'Round 1' }));
    expect(await screen.findByText('close to R3')).toBeInTheDocument();
    expect(screen.getByTestId('round-message')).toHaveTextContent('prompt of round 1');
    expect(screen.getByTestId('round-answer')).toHaveTextContent('"UTS": 600');
    expect(screen.getByText('900 in / 40 out')).toBeInTheDocument();

    await userEvent.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalled();
  });
});
