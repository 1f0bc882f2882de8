import { useEffect, useState } from 'react';
import { api } from '../../api/endpoints';
import type { RoundDetail, SampleHistory } from '../../api/types';
import { ErrorBanner, Loading } from '../../components/Feedback';
import { formatNumber } from '../../lib/format';
import { useAsync } from '../../lib/useAsync';

interface Props {
  taskId: number;
  sample: SampleHistory;
  onClose: () => void;
}

/** The rounds a sample went through: 1..n stored, plus failed ones. */
export function sampleRounds(sample: SampleHistory): number[] {
  const stored = Math.max(0, ...Object.values(sample.targets).map((t) => t.iterations.length));
  const rounds = new Set([...Array.from({ length: stored }, (_, i) => i + 1), ...sample.failed_iterations]);
  return [...rounds].sort((a, b) => a - b);
}

/** A side panel: one sample's conversation with the model and the numbers, round by round. */
export default function RoundsPanel({ taskId, sample, onClose }: Props) {
  const rounds = sampleRounds(sample);
  const [picked, setPicked] = useState<number | null>(null);
  const round = picked != null && rounds.includes(picked) ? picked : (rounds[rounds.length - 1] ?? 1);
  const { data, error, loading } = useAsync(
    (signal) => api.getRound(taskId, sample.sample_index, round, signal),
    [taskId, sample.sample_index, round],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  return (
    <aside className="drawer" aria-label={`Rounds of sample ${sample.sample_id}`} data-testid="rounds-panel">
      <div className="panel__header">
        <h2>
          {sample.sample_id} <span className="muted small">#{sample.sample_index}</span>
        </h2>
        <button type="button" className="btn btn--small" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="toolbar" role="tablist" aria-label="Rounds">
        {rounds.map((n) => (
          <button
            key={n}
            type="button"
            role="tab"
            aria-selected={n === round}
            className={n === round ? 'btn btn--small btn--primary' : 'btn btn--small'}
            onClick={() => setPicked(n)}
          >
            Round {n}
            {sample.failed_iterations.includes(n) ? ' ✕' : ''}
          </button>
        ))}
      </div>
      <ErrorBanner error={error} />
      {loading && !data ? <Loading label={`Loading round ${round}…`} /> : null}
      {data && data.iteration === round ? <RoundView round={data} sample={sample} final={round === rounds[rounds.length - 1]} /> : null}
    </aside>
  );
}

function RoundView({ round, sample, final }: { round: RoundDetail; sample: SampleHistory; final: boolean }) {
  const intervals = final ? (sample.intervals ?? {}) : {};
  const tokens = round.prompt_tokens == null ? '–' : `${round.prompt_tokens} in / ${round.completion_tokens ?? '–'} out`;
  return (
    <div className="stack" role="tabpanel" aria-label={`Round ${round.iteration}`}>
      {round.error ? (
        <div className="notice notice--warn" role="status">
          <strong>{round.error.error_type}</strong> after {round.attempts} attempt{round.attempts === 1 ? '' : 's'}: {round.error.message}
        </div>
      ) : null}
      <dl className="facts">
        <dt>Model</dt>
        <dd>{round.model}</dd>
        <dt>Tokens</dt>
        <dd>{tokens}</dd>
        <dt>Cost</dt>
        <dd>{round.cost_usd == null ? '–' : `$${round.cost_usd.toFixed(5)}`}</dd>
        <dt>Latency</dt>
        <dd>{round.latency_ms == null ? '–' : `${Math.round(round.latency_ms)} ms`}</dd>
        <dt>Attempts</dt>
        <dd>
          {round.attempts}
          {round.cached ? ' (from the cache)' : ''}
        </dd>
      </dl>
      {Object.keys(round.predictions).length ? (
        <table className="data" aria-label="Predictions of this round">
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col" className="num">
                Predicted
              </th>
              {final && Object.keys(intervals).length ? <th scope="col">90 % interval</th> : null}
            </tr>
          </thead>
          <tbody>
            {Object.entries(round.predictions).map(([target, value]) => (
              <tr key={target}>
                <td>{target}</td>
                <td className="num">{formatNumber(value)}</td>
                {final && Object.keys(intervals).length ? (
                  <td className="nowrap">{intervals[target] ? `${formatNumber(intervals[target].lower)} – ${formatNumber(intervals[target].upper)}` : '–'}</td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {round.reasoning ? (
        <section>
          <h3>Reasoning</h3>
          <Reasoning value={round.reasoning} />
        </section>
      ) : null}
      <section>
        <h3>Messages sent</h3>
        {round.messages.length === 0 ? (
          <p className="muted small">No model was called: the baseline computes this round from the nearest references.</p>
        ) : (
          round.messages.map((m, i) => (
            <details key={i} open={i === round.messages.length - 1}>
              <summary>{m.role}</summary>
              <pre className="conversation" data-testid="round-message">
                {m.content}
              </pre>
            </details>
          ))
        )}
      </section>
      {round.raw_answer != null ? (
        <section>
          <h3>Answer received</h3>
          <pre className="conversation" data-testid="round-answer">
            {round.raw_answer}
          </pre>
        </section>
      ) : null}
    </div>
  );
}

function Reasoning({ value }: { value: Record<string, unknown> }) {
  const text = typeof value.reasoning === 'string' && Object.keys(value).length === 1 ? value.reasoning : null;
  return text != null ? <p>{text}</p> : <pre className="conversation">{JSON.stringify(value, null, 2)}</pre>;
}
