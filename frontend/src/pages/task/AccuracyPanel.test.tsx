import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { accuracy } from '../../test/fixtures';
import AccuracyPanel from './AccuracyPanel';

// Canvas charts do not run in jsdom; the chart wrapper is replaced by a stub that exposes its option.
vi.mock('../../components/charts/EChart', () => ({
  default: ({ ariaLabel, option }: { ariaLabel: string; option: { series: { data: unknown[] }[] } }) => (
    <div role="img" aria-label={ariaLabel} data-points={option.series[0]?.data.length} />
  ),
}));

describe('AccuracyPanel', () => {
  it('shows the verdict, the per-round table and the scatter', () => {
    render(<AccuracyPanel accuracy={accuracy(50, 30)} finished />);
    expect(screen.getByTestId('accuracy-verdict')).toHaveTextContent(/^Yes — iterating improved/);
    const table = screen.getByRole('table', { name: /accuracy per target and round/i });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(1 + 3 + 1); // header, 3 rounds, final
    expect(rows[4]).toHaveTextContent(/final.*8.*30/);
    const chart = screen.getByRole('img', { name: /scatter of predicted against measured UTS for 2 samples/i });
    expect(chart).toHaveAttribute('data-points', '2');
  });

  it('switches the scatter between targets', async () => {
    const acc = accuracy(50, 60);
    acc.targets.El = { ...acc.targets.UTS! };
    acc.scatter.El = [{ sample_index: 0, sample_id: 'A-1', predicted: 10, measured: 11 }];
    render(<AccuracyPanel accuracy={acc} finished />);
    expect(screen.getByTestId('accuracy-verdict')).toHaveTextContent(/^No/);
    await userEvent.selectOptions(screen.getByLabelText('Target'), 'El');
    expect(screen.getByRole('img', { name: /measured El for 1 samples/ })).toBeInTheDocument();
  });

  it('explains when there is no ground truth', () => {
    render(<AccuracyPanel accuracy={{ task_id: 1, has_ground_truth: false, targets: {}, scatter: {}, interval_coverage: {} }} finished />);
    expect(screen.getByText(/no measured values to compare with/i)).toBeInTheDocument();
  });

  it('waits for the task to finish', () => {
    render(<AccuracyPanel accuracy={null} finished={false} />);
    expect(screen.getByText(/computed when the task has finished/i)).toBeInTheDocument();
  });
});
