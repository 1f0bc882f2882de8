import { useMemo, useState } from 'react';
import type { SampleHistory } from '../../api/types';
import EChart from '../../components/charts/EChart';
import { EmptyState } from '../../components/Feedback';
import { ALL_TARGETS, heatmapData } from '../../lib/historyTransforms';
import { heatmapOption } from './chartOptions';
import TargetSelect from './TargetSelect';

interface Props {
  samples: SampleHistory[];
  targets: string[];
  threshold: number;
  highlight: number | null;
  onHighlight: (index: number | null) => void;
}

/** Relative change per sample (rows) and round (columns), coloured against the threshold. */
export default function HeatmapPanel({ samples, targets, threshold, highlight, onHighlight }: Props) {
  const [target, setTarget] = useState(ALL_TARGETS);
  const data = useMemo(() => heatmapData(samples, target), [samples, target]);
  const highlightRow = highlight == null ? null : data.sampleIndices.indexOf(highlight);
  const option = useMemo(() => heatmapOption(data, threshold, highlightRow), [data, threshold, highlightRow]);
  const rows = data.sampleLabels.length;
  const height = Math.min(640, Math.max(220, 110 + Math.min(rows, 40) * 16));

  return (
    <section className="panel" aria-labelledby="heatmap-title" data-testid="heatmap-panel">
      <div className="panel__header">
        <h2 id="heatmap-title">Relative change per round</h2>
        <TargetSelect targets={targets} value={target} onChange={setTarget} allowAll />
      </div>
      {data.cells.length === 0 ? (
        <EmptyState title="Nothing to colour yet.">Relative change appears from round 2 on.</EmptyState>
      ) : (
        <>
          <EChart
            option={option}
            height={height}
            testId="heatmap-chart"
            ariaLabel={`Heatmap of the relative change of ${rows} samples over ${data.rounds.length} rounds; green is below the threshold ${threshold}`}
            onClick={(p) => {
              const value = p.data as [number, number, number] | undefined;
              const index = value ? data.sampleIndices[value[1]] : undefined;
              if (index != null) onHighlight(index);
            }}
          />
          <p className="small muted" style={{ margin: '0.25rem 0 0' }}>
            Green: below the threshold ({threshold}), the target has converged. Round 1 has no change. Click a cell to
            highlight its sample{rows > 40 ? '; scroll or drag the slider to see more samples' : ''}.
          </p>
        </>
      )}
    </section>
  );
}
