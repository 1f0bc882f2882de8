import type { PromptPreviewResponse } from '../../api/types';
import { Loading } from '../../components/Feedback';
import { formatCost, formatCount } from '../../lib/usage';

interface Props {
  loading: boolean;
  preview: PromptPreviewResponse | null;
  onRequest: () => void;
  disabled: boolean;
}

/** Renders the round-1 prompt of the first sample without calling the model. */
export default function PromptPreview({ loading, preview, onRequest, disabled }: Props) {
  return (
    <section className="panel" aria-labelledby="prompt-title">
      <div className="panel__header">
        <h2 id="prompt-title">Round-1 prompt</h2>
        <button type="button" className="btn" onClick={onRequest} disabled={disabled || loading}>
          {preview ? 'Refresh prompt preview' : 'Preview prompt'}
        </button>
      </div>
      {loading ? (
        <Loading label="Rendering the prompt…" />
      ) : preview ? (
        <>
          <p className="small muted">
            Sample {preview.sample_index} ({preview.sample_id}), as the model will see it in round 1:
          </p>
          <pre className="prompt" data-testid="prompt-preview" tabIndex={0}>
            {preview.prompt}
          </pre>
          <p className="small" data-testid="run-estimate">
            Estimate for {preview.estimate.samples} samples: {formatCount(preview.estimate.calls_min)}–{formatCount(preview.estimate.calls_max)} LLM calls of about{' '}
            {formatCount(preview.estimate.prompt_tokens_per_call)} prompt tokens,{' '}
            {preview.estimate.cost_usd_min == null
              ? 'cost unknown (no price for this model)'
              : `${formatCost(preview.estimate.cost_usd_min)}–${formatCost(preview.estimate.cost_usd_max)}`}
            . <span className="muted">{preview.estimate.note}.</span>
          </p>
        </>
      ) : (
        <p className="muted small">See exactly what the first sample's round-1 prompt looks like before starting. No model is called.</p>
      )}
    </section>
  );
}
