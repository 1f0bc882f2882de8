import type { ConvergenceStats } from '../../api/types';
import { EmptyState } from '../../components/Feedback';
import { formatNumber, formatPercent } from '../../lib/format';
import { COLORS } from './chartOptions';

const BUCKETS = [
  { key: 'fast', label: 'Fast (round ≤ 2)', color: COLORS.converged },
  { key: 'medium', label: 'Medium (rounds 3–4)', color: COLORS.close },
  { key: 'slow', label: 'Slow (round ≥ 5)', color: COLORS.moving },
] as const;

/** Convergence rate and how fast samples converged, by speed bucket. */
export default function ConvergenceStatsPanel({ stats }: { stats: ConvergenceStats | null }) {
  return (
    <section className="panel" aria-labelledby="stats-title" data-testid="convergence-stats">
      <h2 id="stats-title">Convergence</h2>
      {!stats ? (
        <EmptyState title="No statistics yet." />
      ) : (
        <>
          <div className="counters" style={{ marginTop: 0, marginBottom: '1rem' }}>
            <div className="counter counter--ok">
              <div className="counter__value">{formatPercent(stats.convergence_rate)}</div>
              <div className="counter__label">
                converged ({stats.converged_samples}/{stats.total_samples})
              </div>
            </div>
            <div className="counter">
              <div className="counter__value">{stats.converged_samples ? formatNumber(stats.average_convergence_iteration, 2) : '–'}</div>
              <div className="counter__label">average round</div>
            </div>
            <div className="counter">
              <div className="counter__value">
                {stats.converged_samples ? `${stats.fastest_convergence_iteration}–${stats.slowest_convergence_iteration}` : '–'}
              </div>
              <div className="counter__label">fastest–slowest round</div>
            </div>
          </div>
          <div className="buckets">
            {BUCKETS.map((b) => {
              const count = stats.samples_by_convergence_speed[b.key] ?? 0;
              const share = stats.converged_samples ? count / stats.converged_samples : 0;
              return (
                <div key={b.key} className="bucket">
                  <span>{b.label}</span>
                  <div className="bucket__bar" role="img" aria-label={`${b.label}: ${count} samples`}>
                    <div className="bucket__fill" style={{ width: `${share * 100}%`, background: b.color }} />
                  </div>
                  <span className="num">{count}</span>
                </div>
              );
            })}
          </div>
        </>
      )}
    </section>
  );
}
