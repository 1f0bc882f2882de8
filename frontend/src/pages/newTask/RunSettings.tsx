import type { Estimate } from '../../api/types';
import { FieldError } from '../../components/Feedback';
import type { FieldErrors } from '../../lib/fieldErrors';
import { formatCost } from '../../lib/usage';
import NumberSliderField from './NumberSliderField';
import { BUDGET, LIMITS, MODEL_SUGGESTIONS, PRIORITY, PROVIDERS, takesBudget } from './taskForm';
import type { NumericField, TaskForm } from './taskForm';

interface Props {
  form: TaskForm;
  errors: FieldErrors;
  onChange: (patch: Partial<TaskForm>) => void;
  /** The prompt preview's estimate, shown next to the budget; null until one is asked for. */
  estimate?: Estimate | null;
}

/** The estimated cost beside the budget, and a word when the budget is below its upper end. */
function BudgetEstimate({ estimate, budget }: { estimate: Estimate | null | undefined; budget: string }) {
  if (!estimate) return <span className="muted">Preview the prompt to see the estimated cost.</span>;
  if (estimate.cost_usd_min == null || estimate.cost_usd_max == null)
    return <span>Estimated cost: unknown (no price for this model).</span>;
  const limit = budget.trim() === '' ? null : Number(budget);
  const short = limit != null && Number.isFinite(limit) && limit > 0 && limit < estimate.cost_usd_max;
  return (
    <span>
      Estimated cost: {formatCost(estimate.cost_usd_min)}–{formatCost(estimate.cost_usd_max)}
      {short ? (
        <strong className="budget-spent">
          {' '}
          · the budget is below {limit < estimate.cost_usd_min ? 'the whole estimate' : "the estimate's upper end"}: the task may stop
          early, with its unfinished samples left to retry
        </strong>
      ) : null}
    </span>
  );
}

const LABELS: Record<NumericField, { label: string; hint: string }> = {
  max_iterations: { label: 'Rounds (max_iterations)', hint: 'At most this many predictions per sample, 1–10.' },
  convergence_threshold: {
    label: 'Convergence threshold',
    hint: 'A target has converged when its relative change between rounds is below this (0.001–0.1).',
  },
  max_workers: { label: 'Parallel calls (max_workers)', hint: 'LLM calls in flight at once for this task, 1–20.' },
  temperature: { label: 'Temperature', hint: '0 = deterministic, 2 = most random.' },
  reference_top_k: { label: 'Similar reference samples', hint: 'How many of the most similar reference rows each prompt (or the kNN baseline) uses, 1–50.' },
};

/** Iteration, concurrency and model settings, each bounded by API.md's ranges. */
export default function RunSettings({ form, errors, onChange, estimate }: Props) {
  const isBaseline = form.llm_provider === 'baseline';
  const budgeted = takesBudget(form);
  const numeric = (field: NumericField, disabled = false) => (
    <NumberSliderField
      name={field}
      label={LABELS[field].label}
      hint={LABELS[field].hint}
      value={form[field]}
      min={LIMITS[field].min}
      max={LIMITS[field].max}
      step={LIMITS[field].step}
      disabled={disabled}
      errors={errors[field]}
      onChange={(value) => onChange({ [field]: value } as Partial<TaskForm>)}
    />
  );

  return (
    <section className="panel" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <div className="grid-2" style={{ gridTemplateColumns: 'repeat(auto-fit, minmax(280px, 1fr))' }}>
        <div>
          {numeric('max_iterations')}
          {numeric('convergence_threshold')}
          <div className="field">
            <label className="checkbox" htmlFor="field-early_stop">
              <input
                id="field-early_stop"
                type="checkbox"
                checked={form.early_stop}
                onChange={(e) => onChange({ early_stop: e.target.checked })}
              />
              Early stop: stop predicting a sample once it has converged
            </label>
            <FieldError id="field-early_stop-error" messages={errors.early_stop} />
          </div>
          {numeric('max_workers')}
        </div>
        <div>
          <div className="field">
            <label htmlFor="field-llm_provider">Provider</label>
            <select
              id="field-llm_provider"
              value={form.llm_provider}
              aria-invalid={!!errors.llm_provider}
              aria-describedby={errors.llm_provider ? 'field-llm_provider-error' : 'field-llm_provider-hint'}
              onChange={(e) => {
                const provider = PROVIDERS.find((p) => p.value === e.target.value);
                if (provider) onChange({ llm_provider: provider.value, llm_model: provider.defaultModel });
              }}
            >
              {PROVIDERS.map((p) => (
                <option key={p.value} value={p.value}>
                  {p.label}
                </option>
              ))}
            </select>
            <span id="field-llm_provider-hint" className="hint">
              {isBaseline
                ? 'The baseline is a k-nearest-neighbours predictor: no LLM, no API key, deterministic. Use it as the yardstick.'
                : 'API keys are configured on the server, never here.'}
            </span>
            <FieldError id="field-llm_provider-error" messages={errors.llm_provider} />
          </div>
          <div className="field">
            <label htmlFor="field-llm_model">Model</label>
            <input
              id="field-llm_model"
              type="text"
              list="model-suggestions"
              value={form.llm_model}
              disabled={isBaseline}
              aria-invalid={!!errors.llm_model}
              aria-describedby={errors.llm_model ? 'field-llm_model-error' : undefined}
              onChange={(e) => onChange({ llm_model: e.target.value })}
            />
            <datalist id="model-suggestions">
              {(MODEL_SUGGESTIONS[form.llm_provider] ?? []).map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
            <FieldError id="field-llm_model-error" messages={errors.llm_model} />
          </div>
          {numeric('temperature', isBaseline)}
          {numeric('reference_top_k')}
        </div>
      </div>
      <div className="grid-2" style={{ gridTemplateColumns: 'repeat(auto-fit, minmax(280px, 1fr))' }}>
        <div className="field">
          <label htmlFor="field-priority">Priority</label>
          <input
            id="field-priority"
            name="priority"
            type="number"
            min={PRIORITY.min}
            max={PRIORITY.max}
            step={PRIORITY.step}
            value={form.priority}
            aria-invalid={!!errors.priority}
            aria-describedby={errors.priority ? 'field-priority-hint field-priority-error' : 'field-priority-hint'}
            onChange={(e) => onChange({ priority: e.target.value })}
          />
          <span id="field-priority-hint" className="hint">
            Queue order, a whole number from {PRIORITY.min} to {PRIORITY.max}: higher runs first, equal ones in start order.
          </span>
          <FieldError id="field-priority-error" messages={errors.priority} />
        </div>
        <div className="field">
          <label htmlFor="field-max_cost_usd">Budget (USD)</label>
          <input
            id="field-max_cost_usd"
            name="max_cost_usd"
            type="number"
            min={BUDGET.exclusiveMin}
            step="any"
            placeholder={budgeted ? 'no limit' : 'the baseline costs nothing'}
            value={budgeted ? form.max_cost_usd : ''}
            disabled={!budgeted}
            aria-invalid={!!errors.max_cost_usd}
            aria-describedby={errors.max_cost_usd ? 'field-max_cost_usd-hint field-max_cost_usd-error' : 'field-max_cost_usd-hint'}
            onChange={(e) => onChange({ max_cost_usd: e.target.value })}
          />
          <span id="field-max_cost_usd-hint" className="hint">
            Optional; empty = no limit. Once the task has cost this much no new call starts and it ends with its budget spent.
            {budgeted ? (
              <>
                {' '}
                <span data-testid="budget-estimate">
                  <BudgetEstimate estimate={estimate} budget={form.max_cost_usd} />
                </span>
              </>
            ) : null}
          </span>
          <FieldError id="field-max_cost_usd-error" messages={errors.max_cost_usd} />
        </div>
      </div>
    </section>
  );
}
