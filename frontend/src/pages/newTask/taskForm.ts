/** The new-task form: its state, its limits (API.md), its validation and the request it becomes. */
import type { Provider, StartRequest } from '../../api/types';
import { FIELD_LIMITS, ProviderValues } from '../../api/vocabulary';
import type { FieldErrors } from '../../lib/fieldErrors';

const SERVER = FIELD_LIMITS.StartRequest;

/** The server's ranges (from its OpenAPI document); the step is the form's own. */
function limit(field: { minimum: number; maximum: number; integer?: boolean }, step: number) {
  return { min: field.minimum, max: field.maximum, step, integer: field.integer === true };
}

export const LIMITS = {
  max_iterations: limit(SERVER.max_iterations, 1),
  convergence_threshold: limit(SERVER.convergence_threshold, 0.001),
  max_workers: limit(SERVER.max_workers, 1),
  temperature: limit(SERVER.temperature, 0.1),
  reference_top_k: limit(SERVER.reference_top_k, 1),
};

export type NumericField = keyof typeof LIMITS;

/** Queue order: a whole number in the server's range (default 0, higher runs first). */
export const PRIORITY = limit(SERVER.priority, 1);

/** The budget in USD: optional (empty = no limit), above the server's exclusive minimum. */
export const BUDGET = { exclusiveMin: SERVER.max_cost_usd.exclusiveMinimum };

const PROVIDER_TEXT: Record<Provider, { label: string; defaultModel: string }> = {
  baseline: { label: 'Baseline (kNN, no LLM)', defaultModel: 'knn' },
  openai: { label: 'OpenAI-compatible', defaultModel: 'gpt-4o-mini' },
  gemini: { label: 'Gemini', defaultModel: 'gemini-2.0-flash' },
  ollama: { label: 'Ollama', defaultModel: 'llama3.1' },
};

/** Every provider the server accepts, in its order. */
export const PROVIDERS = ProviderValues.map((value) => ({ value, ...PROVIDER_TEXT[value] }));

export const MODEL_SUGGESTIONS: Record<string, string[]> = {
  baseline: ['knn'],
  openai: ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini'],
  gemini: ['gemini-2.0-flash', 'gemini-1.5-pro'],
  ollama: ['llama3.1', 'qwen2.5', 'mistral'],
};

export interface TaskForm {
  task_name: string;
  task_description: string;
  test_file_path: string;
  reference_file_path: string;
  target_properties: string[];
  id_column: string;
  feature_columns: string[];
  max_iterations: string;
  convergence_threshold: string;
  early_stop: boolean;
  max_workers: string;
  llm_provider: Provider;
  llm_model: string;
  temperature: string;
  reference_top_k: string;
  priority: string;
  /** '' = no budget */
  max_cost_usd: string;
}

/** Fields that change neither the prompt nor its estimate: editing them keeps the preview. */
export const SCHEDULING_FIELDS: readonly (keyof TaskForm)[] = ['priority', 'max_cost_usd'];

export const FORM_FIELDS: (keyof TaskForm)[] = [
  'task_name',
  'task_description',
  'test_file_path',
  'reference_file_path',
  'target_properties',
  'id_column',
  'feature_columns',
  'max_iterations',
  'convergence_threshold',
  'early_stop',
  'max_workers',
  'llm_provider',
  'llm_model',
  'temperature',
  'reference_top_k',
  'priority',
  'max_cost_usd',
];

export function initialForm(): TaskForm {
  return {
    task_name: '',
    task_description: '',
    test_file_path: '',
    reference_file_path: '',
    target_properties: [],
    id_column: '',
    feature_columns: [],
    max_iterations: '5',
    convergence_threshold: '0.01',
    early_stop: true,
    max_workers: '5',
    llm_provider: 'baseline',
    llm_model: 'knn',
    temperature: '0.7',
    reference_top_k: '5',
    priority: '0',
    max_cost_usd: '',
  };
}

function checkNumber(field: string, raw: string, { min, max, integer }: { min: number; max: number; integer: boolean }): string | null {
  const range = `${field} must be between ${min} and ${max}`;
  if (raw.trim() === '') return range;
  const value = Number(raw);
  if (!Number.isFinite(value)) return range;
  if (integer && !Number.isInteger(value)) return `${field} must be a whole number between ${min} and ${max}`;
  if (value < min || value > max) return range;
  return null;
}

/** The baseline calls no model and costs nothing: a budget is neither asked nor sent for it. */
export const takesBudget = (form: Pick<TaskForm, 'llm_provider'>) => form.llm_provider !== 'baseline';

function checkBudget(form: TaskForm): string | null {
  const raw = form.max_cost_usd.trim();
  if (raw === '' || !takesBudget(form)) return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= BUDGET.exclusiveMin)
    return `max_cost_usd must be a number of dollars greater than ${BUDGET.exclusiveMin}, or empty for no budget`;
  return null;
}

/** Client-side checks mirroring the server's; messages start with the field name like the server's. */
export function validateForm(form: TaskForm): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);

  const name = form.task_name.trim();
  if (!name) add('task_name', 'task_name is required');
  else if (name.length > SERVER.task_name.maxLength)
    add('task_name', `task_name must be at most ${SERVER.task_name.maxLength} characters`);
  if (!form.test_file_path) add('test_file_path', 'test_file_path is required: upload or pick a test dataset');
  if (!form.reference_file_path)
    add('reference_file_path', 'reference_file_path is required: upload or pick a reference dataset');
  if (form.target_properties.length === 0) add('target_properties', 'target_properties needs at least one target');
  if (form.id_column && form.feature_columns.includes(form.id_column))
    add('feature_columns', 'feature_columns must not include the ID column');
  const overlap = form.feature_columns.filter((c) => form.target_properties.includes(c));
  if (overlap.length) add('feature_columns', `feature_columns must not include targets (${overlap.join(', ')})`);
  for (const field of Object.keys(LIMITS) as NumericField[]) {
    const message = checkNumber(field, form[field], LIMITS[field]);
    if (message) add(field, message);
  }
  const priority = checkNumber('priority', form.priority, PRIORITY);
  if (priority) add('priority', priority);
  const budget = checkBudget(form);
  if (budget) add('max_cost_usd', budget);
  if (!form.llm_provider) add('llm_provider', 'llm_provider is required');
  if (!form.llm_model.trim()) add('llm_model', 'llm_model is required');
  return errors;
}

export function toStartRequest(form: TaskForm): StartRequest {
  const description = form.task_description.trim();
  return {
    task_name: form.task_name.trim(),
    ...(description ? { task_description: description } : {}),
    test_file_path: form.test_file_path,
    reference_file_path: form.reference_file_path,
    target_properties: form.target_properties,
    llm_provider: form.llm_provider,
    llm_model: form.llm_model.trim(),
    temperature: Number(form.temperature),
    enable_iteration: true,
    max_iterations: Number(form.max_iterations),
    convergence_threshold: Number(form.convergence_threshold),
    early_stop: form.early_stop,
    max_workers: Number(form.max_workers),
    reference_top_k: Number(form.reference_top_k),
    priority: Number(form.priority),
    ...(takesBudget(form) && form.max_cost_usd.trim() ? { max_cost_usd: Number(form.max_cost_usd) } : {}),
    ...(form.id_column ? { id_column: form.id_column } : {}),
    ...(form.feature_columns.length ? { feature_columns: form.feature_columns } : {}),
  };
}

const ID_CANDIDATES = ['ID', 'id', 'sample_id'];

export function guessIdColumn(columns: readonly string[]): string {
  return ID_CANDIDATES.find((c) => columns.includes(c)) ?? '';
}
