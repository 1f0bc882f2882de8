import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { ApiError } from '../../api/client';
import { api } from '../../api/endpoints';
import type { DatasetWithPreview, PromptPreviewResponse } from '../../api/types';
import { ErrorBanner, FieldError } from '../../components/Feedback';
import { errorText } from '../../lib/errorText';
import { GENERAL, mapDetailsToFields } from '../../lib/fieldErrors';
import type { FieldErrors } from '../../lib/fieldErrors';
import { useAsync } from '../../lib/useAsync';
import ColumnChooser from './ColumnChooser';
import DatasetPicker from './DatasetPicker';
import PromptPreview from './PromptPreview';
import RunSettings from './RunSettings';
import { FORM_FIELDS, guessIdColumn, initialForm, SCHEDULING_FIELDS, toStartRequest, validateForm } from './taskForm';
import type { TaskForm } from './taskForm';

const API_FIELDS = [...FORM_FIELDS, 'enable_iteration', 'sample_index'];

/** Target guess: numeric reference columns the test file lacks (what there is to predict). */
function guessTargets(test: DatasetWithPreview, reference: DatasetWithPreview): string[] {
  return reference.columns.filter((c) => reference.column_types[c] === 'numeric' && !test.columns.includes(c));
}

export default function NewTaskPage() {
  const navigate = useNavigate();
  const datasets = useAsync((signal) => api.listDatasets(signal), []);
  const [test, setTest] = useState<DatasetWithPreview | null>(null);
  const [reference, setReference] = useState<DatasetWithPreview | null>(null);
  const [base, setBase] = useState<TaskForm>(initialForm);
  const [excluded, setExcluded] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [starting, setStarting] = useState(false);
  const [prompt, setPrompt] = useState<PromptPreviewResponse | null>(null);
  const [promptLoading, setPromptLoading] = useState(false);

  const form: TaskForm = useMemo(() => {
    const features = test
      ? test.columns.filter((c) => c !== base.id_column && !base.target_properties.includes(c) && !excluded.has(c))
      : [];
    return {
      ...base,
      test_file_path: test?.path ?? '',
      reference_file_path: reference?.path ?? '',
      feature_columns: features,
    };
  }, [base, test, reference, excluded]);

  const clientErrors = useMemo(() => validateForm(form), [form]);
  const shownErrors: FieldErrors = useMemo(() => {
    const out: FieldErrors = { ...serverErrors };
    if (submitted) for (const [k, v] of Object.entries(clientErrors)) out[k] = [...(out[k] ?? []), ...v];
    return out;
  }, [serverErrors, clientErrors, submitted]);

  const clearServer = (fields: string[]) =>
    setServerErrors((prev) => {
      if (!fields.some((f) => f in prev)) return prev;
      const next = { ...prev };
      for (const f of fields) delete next[f];
      return next;
    });

  const patch = (p: Partial<TaskForm>) => {
    setBase((prev) => ({ ...prev, ...p }));
    clearServer(Object.keys(p));
    // Priority and budget change neither the prompt nor its estimate, shown next to the budget.
    if (Object.keys(p).some((k) => !SCHEDULING_FIELDS.includes(k as keyof TaskForm))) setPrompt(null);
  };

  const onDataset = (kind: 'test' | 'reference', ds: DatasetWithPreview | null) => {
    const nextTest = kind === 'test' ? ds : test;
    const nextRef = kind === 'reference' ? ds : reference;
    if (kind === 'test') setTest(ds);
    else setReference(ds);
    clearServer([`${kind}_file_path`, 'target_properties', 'id_column', 'feature_columns']);
    setPrompt(null);
    setExcluded(new Set());
    setBase((prev) => {
      const next = { ...prev };
      if (kind === 'test' && ds) {
        next.id_column = guessIdColumn(ds.columns);
        if (!prev.task_name) next.task_name = ds.filename.replace(/\.csv$/i, '');
      }
      if (nextTest && nextRef) {
        const valid = prev.target_properties.filter((t) => nextRef.columns.includes(t));
        next.target_properties = valid.length ? valid : guessTargets(nextTest, nextRef);
      } else if (!nextRef) {
        next.target_properties = [];
      }
      return next;
    });
  };

  const handleApiError = (err: unknown) => {
    if (err instanceof ApiError) setServerErrors(mapDetailsToFields(err.details.length ? err.details : [err.message], API_FIELDS));
    else setServerErrors({ [GENERAL]: [errorText(err)] });
  };

  const canSend = () => {
    setSubmitted(true);
    return Object.keys(clientErrors).length === 0;
  };

  const onPreview = async () => {
    if (!canSend()) return;
    setPromptLoading(true);
    setServerErrors({});
    try {
      setPrompt(await api.previewPrompt({ ...toStartRequest(form), sample_index: 0 }));
    } catch (err) {
      handleApiError(err);
    } finally {
      setPromptLoading(false);
    }
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (!canSend()) {
      const first = FORM_FIELDS.find((f) => clientErrors[f]);
      document.getElementById(`field-${first}`)?.focus();
      return;
    }
    setStarting(true);
    setServerErrors({});
    try {
      const started = await api.startTask(toStartRequest(form));
      navigate(`/tasks/${started.task_id}`);
    } catch (err) {
      handleApiError(err);
      setStarting(false);
    }
  };

  const items = datasets.data?.items ?? [];
  const hasErrors = Object.keys(shownErrors).length > 0;

  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby="new-task-title">
      <div className="page-header">
        <div>
          <h1 id="new-task-title">New task</h1>
          <p className="muted" style={{ margin: 0 }}>
            Predict properties of the test samples from the most similar reference samples, round after round, until the
            predictions stop moving.
          </p>
        </div>
      </div>

      <ErrorBanner error={datasets.error} onRetry={datasets.reload} />

      <section className="panel" aria-labelledby="about-title">
        <h2 id="about-title" className="visually-hidden">
          Task
        </h2>
        <div className="grid-2" style={{ gridTemplateColumns: 'repeat(auto-fit, minmax(280px, 1fr))' }}>
          <div className="field">
            <label htmlFor="field-task_name">Task name</label>
            <input
              id="field-task_name"
              type="text"
              maxLength={255}
              value={base.task_name}
              aria-invalid={!!shownErrors.task_name}
              aria-describedby={shownErrors.task_name ? 'field-task_name-error' : undefined}
              onChange={(e) => patch({ task_name: e.target.value })}
            />
            <FieldError id="field-task_name-error" messages={shownErrors.task_name} />
          </div>
          <div className="field">
            <label htmlFor="field-task_description">Description (optional)</label>
            <textarea
              id="field-task_description"
              value={base.task_description}
              onChange={(e) => patch({ task_description: e.target.value })}
              rows={2}
            />
            <FieldError id="field-task_description-error" messages={shownErrors.task_description} />
          </div>
        </div>
      </section>

      <div className="grid-2">
        <DatasetPicker
          kind="test"
          title="Test samples"
          hint="The alloys to predict. Columns named like a target are kept as ground truth for scoring only."
          datasets={items}
          value={test}
          onChange={(ds) => onDataset('test', ds)}
          onUploaded={datasets.reload}
          errors={shownErrors.test_file_path}
        />
        <DatasetPicker
          kind="reference"
          title="Reference samples"
          hint="Samples with measured values of every target; the most similar ones are shown to the model."
          datasets={items}
          value={reference}
          onChange={(ds) => onDataset('reference', ds)}
          onUploaded={datasets.reload}
          errors={shownErrors.reference_file_path}
        />
      </div>
      <div style={{ height: '1rem' }} />

      {test && reference ? (
        <ColumnChooser
          test={test}
          reference={reference}
          targets={base.target_properties}
          idColumn={base.id_column}
          featureColumns={form.feature_columns}
          errors={shownErrors}
          onTargets={(targets) => patch({ target_properties: targets })}
          onIdColumn={(id_column) => patch({ id_column })}
          onFeatureToggle={(column, included) => {
            setExcluded((prev) => {
              const next = new Set(prev);
              if (included) next.delete(column);
              else next.add(column);
              return next;
            });
            clearServer(['feature_columns']);
            setPrompt(null);
          }}
          onFeaturesAll={(included) => {
            setExcluded(included ? new Set() : new Set(test.columns));
            clearServer(['feature_columns']);
            setPrompt(null);
          }}
        />
      ) : (
        <section className="panel">
          <h2>Columns</h2>
          <p className="muted" style={{ margin: 0 }}>
            Choose a test and a reference dataset to pick the targets, the ID column and the input columns.
          </p>
          <FieldError id="field-target_properties-error" messages={shownErrors.target_properties} />
        </section>
      )}

      <RunSettings form={base} errors={shownErrors} onChange={patch} estimate={prompt?.estimate ?? null} />

      <PromptPreview loading={promptLoading} preview={prompt} onRequest={onPreview} disabled={starting} />

      <div className="panel">
        <FieldError id="form-general-error" messages={shownErrors[GENERAL]} />
        {hasErrors ? (
          <p className="field-error" role="status">
            Fix the fields marked above, then start again.
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="btn btn--primary" disabled={starting}>
            {starting ? 'Starting…' : 'Start task'}
          </button>
          <span className="muted small">
            {form.llm_provider === 'baseline' ? 'Baseline (kNN, no LLM)' : `${form.llm_provider} · ${form.llm_model}`},{' '}
            up to {form.max_iterations} rounds, threshold {form.convergence_threshold}
          </span>
        </div>
      </div>
    </form>
  );
}
