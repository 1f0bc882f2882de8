import { useMemo } from 'react';
import type { SampleHistory } from '../../api/types';
import EChart from '../../components/charts/EChart';
import { EmptyState } from '../../components/Feedback';
import { trendData } from '../../lib/historyTransforms';
import { trendOption } from './chartOptions';
import SamplePicker from './SamplePicker';
import TargetSelect from './TargetSelect';

interface Props {
  samples: SampleHistory[];
  targets: string[];
  target: string;
  onTarget: (t: string) => void;
  chosen: Set<number>;
  onChosen: (s: Set<number>) => void;
  highlight: number | null;
  onHighlight: (i: number | null) => void;
}

/** Per-target prediction trend: one line per chosen sample, one highlighted. */
export default function TrendPanel(props: Props) {
  const { samples, targets, target, chosen, highlight } = props;
  const trend = useMemo(() => trendData(samples, target, chosen), [samples, target, chosen]);
  const option = useMemo(() => trendOption(trend, target, highlight), [trend, target, highlight]);

  return (
    <section className="panel" aria-labelledby="trend-title" data-testid="trend-panel">
      <div className="panel__header">
        <h2 id="trend-title">Prediction per round</h2>
        <TargetSelect targets={targets} value={target} onChange={props.onTarget} />
      </div>
      <SamplePicker
        samples={samples}
        chosen={chosen}
        highlight={highlight}
        onChosen={props.onChosen}
        onHighlight={props.onHighlight}
      />
      {trend.series.length === 0 ? (
        <EmptyState title="No sample selected." >Pick samples above, or click a row of the table.</EmptyState>
      ) : (
        <EChart
          option={option}
          height={360}
          testId="trend-chart"
          ariaLabel={`Line chart of ${target} predicted in each round for ${trend.series.length} samples`}
          onClick={(p) => {
            const s = p.seriesIndex != null ? trend.series[p.seriesIndex] : undefined;
            if (s) props.onHighlight(s.sampleIndex === highlight ? null : s.sampleIndex);
          }}
        />
      )}
      <p className="small muted" style={{ margin: '0.25rem 0 0' }}>
        Click a line to highlight that sample; click it again to clear.
      </p>
    </section>
  );
}
