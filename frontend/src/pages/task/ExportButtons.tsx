import type { IterationHistory } from '../../api/types';
import { downloadText } from '../../lib/download';
import { finalPredictionsCsv, sortedSamples } from '../../lib/historyTransforms';

interface Props {
  taskId: number;
  history: IterationHistory | null;
  targets: string[];
}

/** Download the final predictions (CSV) and the full iteration history (JSON). */
export default function ExportButtons({ taskId, history, targets }: Props) {
  const disabled = !history;
  return (
    <>
      <button
        type="button"
        className="btn"
        disabled={disabled}
        onClick={() => history && downloadText(`task-${taskId}-final-predictions.csv`, finalPredictionsCsv(sortedSamples(history), targets), 'text/csv')}
      >
        Export CSV
      </button>
      <button
        type="button"
        className="btn"
        disabled={disabled}
        onClick={() => history && downloadText(`task-${taskId}-history.json`, JSON.stringify(history, null, 2), 'application/json')}
      >
        Export history JSON
      </button>
    </>
  );
}
