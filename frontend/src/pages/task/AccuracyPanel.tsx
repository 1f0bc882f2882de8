import { useMemo, useState } from 'react';
import type { Accuracy, AccuracyScores } from '../../api/types';
import EChart from '../../components/charts/EChart';
import { EmptyState, ErrorBanner, Loading } from '../../components/Feedback';
import { overallSentence, targetSentence, targetVerdict } from '../../lib/accuracyVerdict';
import { formatNumber } from '../../lib/format';
import { scatterOption } from './chartOptions';
import TargetSelect from './TargetSelect';

interface Props {
  accuracy: Accuracy | null;
  error?: unknown;
  finished: boolean;
}

function ScoreCells({ s }: { s: AccuracyScores | null | undefined }) {
  return (
    <>
      <td className="num">{s?.n ?? '–'}</td>
      <td className="num">{formatNumber(s?.mae)}</td>
      <td className="num">{formatNumber(s?.rmse)}</td>
      <td className="num">{formatNumber(s?.r2)}</td>
    </>
  );
}

/** MAE/RMSE/R² per target per round, predicted vs measured, and whether iterating helped. */
export default function AccuracyPanel({ accuracy, error, finished }: Props) {
  const targets = useMemo(() => Object.keys(accuracy?.targets ?? {}), [accuracy]);
  const [picked, setPicked] = useState<string | null>(null);
  const target = picked && targets.includes(picked) ? picked : (targets[0] ?? '');
  const points = useMemo(() => accuracy?.scatter[target] ?? [], [accuracy, target]);
  const option = useMemo(() => scatterOption(points, target), [points, target]);

  let body: React.ReactNode;
  if (error) body = <ErrorBanner error={error} />;
  else if (!accuracy) body = finished ? <Loading label="Scoring predictions…" /> : <p className="muted">Accuracy is computed when the task has finished.</p>;
  else if (!accuracy.has_ground_truth || targets.length === 0)
    body = (
      <EmptyState title="No measured values to compare with.">
        Include the target columns with their measured values in the test file to see MAE, RMSE and R² here. They are
        never shown to the model.
      </EmptyState>
    );
  else {
    const verdicts = targets.map((t) => targetVerdict(accuracy.targets[t]!));
    const tone = verdicts.every((v) => v === 'helped') ? 'verdict--helped' : verdicts.some((v) => v === 'hurt') ? 'verdict--hurt' : '';
    body = (
      <>
        <p className={`verdict ${tone}`} data-testid="accuracy-verdict">
          {overallSentence(accuracy)}
        </p>
        <ul className="small" style={{ marginTop: 0 }}>
          {targets.map((t) => (
            <li key={t}>{targetSentence(t, accuracy.targets[t]!)}</li>
          ))}
        </ul>
        <div className="grid-2">
          <div className="table-wrap" style={{ maxHeight: '26rem' }}>
            <table className="data" aria-label="Accuracy per target and round">
              <thead>
                <tr>
                  <th scope="col">Target</th>
                  <th scope="col">Round</th>
                  <th scope="col" className="num">n</th>
                  <th scope="col" className="num">MAE</th>
                  <th scope="col" className="num">RMSE</th>
                  <th scope="col" className="num">R²</th>
                </tr>
              </thead>
              <tbody>
                {targets.flatMap((t) => {
                  const acc = accuracy.targets[t]!;
                  return [
                    ...acc.rounds.map((r, i) => (
                      <tr key={`${t}-${r.iteration ?? i}`}>
                        {i === 0 ? (
                          <th scope="rowgroup" rowSpan={acc.rounds.length + 1} style={{ verticalAlign: 'top' }}>
                            {t}
                          </th>
                        ) : null}
                        <td>{r.iteration ?? i + 1}</td>
                        <ScoreCells s={r} />
                      </tr>
                    )),
                    <tr key={`${t}-final`} style={{ fontWeight: 600 }}>
                      {acc.rounds.length === 0 ? <th scope="rowgroup">{t}</th> : null}
                      <td>final</td>
                      <ScoreCells s={acc.final} />
                    </tr>,
                  ];
                })}
              </tbody>
            </table>
          </div>
          <div>
            <div className="panel__header" style={{ marginBottom: '0.25rem' }}>
              <h3 style={{ margin: 0 }}>
                Final prediction vs measured <span className="muted small">(dashed: perfect prediction)</span>
              </h3>
              <TargetSelect targets={targets} value={target} onChange={setPicked} />
            </div>
            {points.length ? (
              <EChart option={option} height={320} testId="accuracy-scatter" ariaLabel={`Scatter of predicted against measured ${target} for ${points.length} samples`} />
            ) : (
              <EmptyState title="No scored sample for this target." />
            )}
          </div>
        </div>
        <p className="small muted">
          “final” scores each sample’s last prediction; a round’s row scores the samples predicted in that round.
        </p>
      </>
    );
  }

  return (
    <section className="panel" aria-labelledby="accuracy-title" data-testid="accuracy-panel">
      <h2 id="accuracy-title">Accuracy against measured values</h2>
      {body}
    </section>
  );
}
