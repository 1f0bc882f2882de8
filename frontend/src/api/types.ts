/**
 * API shapes used by the dashboard.
 * Provisional: written from API.md until the backend's /openapi.json exists;
 * then these become aliases of the generated `schema.d.ts`.
 */

export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type ColumnType = 'numeric' | 'text';

export interface Dataset {
  dataset_id: number | string;
  path: string;
  filename: string;
  rows: number;
  columns: string[];
  column_types: Record<string, ColumnType | string>;
  size_bytes: number;
  created_at: string;
}

export interface DatasetWithPreview extends Dataset {
  preview: Record<string, unknown>[];
}

export interface DatasetList {
  items: Dataset[];
  total: number;
}

export interface Task {
  task_id: number;
  task_name: string;
  task_description?: string | null;
  status: TaskStatus | string;
  enable_iteration: boolean;
  max_iterations: number;
  current_iteration: number;
  progress: number;
  converged_samples: number;
  total_samples: number;
  failed_samples: number;
  created_at: string;
  updated_at: string;
  error: string | null;
  llm_provider: string;
  llm_model: string;
  is_baseline: boolean;
  provider_label: string;
  target_properties: string[];
  convergence_threshold: number;
  early_stop: boolean;
  max_workers: number;
  temperature: number;
  continue_from_task_id: number | null;
  early_stop_reason: string | null;
  started_at: string | null;
  completed_at: string | null;
}

export interface TaskList {
  items: Task[];
  total: number;
  limit: number;
  offset: number;
}

export interface StartRequest {
  task_name: string;
  task_description?: string;
  test_file_path: string;
  reference_file_path: string;
  target_properties: string[];
  llm_provider: string;
  llm_model: string;
  temperature: number;
  enable_iteration: boolean;
  max_iterations: number;
  convergence_threshold: number;
  early_stop: boolean;
  max_workers: number;
  id_column?: string | null;
  feature_columns?: string[] | null;
}

export interface StartResponse {
  task_id: number;
  task_name: string;
  status: string;
  created_at: string;
  message: string;
}

export interface PromptPreviewResponse {
  sample_index: number;
  sample_id: string;
  prompt: string;
}

export interface TargetHistory {
  iterations: (number | null)[];
  relative_changes: (number | null)[];
  convergence_status: string;
  converged_at_iteration: number | null;
}

export interface SampleError {
  iteration: number;
  error_type: string;
  message: string;
  attempts: number;
}

export interface SampleHistory {
  sample_index: number;
  sample_id: string;
  composition: Record<string, unknown>;
  convergence_status: 'converged' | 'not_converged' | 'failed' | string;
  converged_at_iteration: number | null;
  targets: Record<string, TargetHistory>;
  final_predictions: Record<string, number | null>;
  failed_iterations: number[];
  errors: SampleError[];
}

export interface GlobalInfo {
  task_id: number;
  total_iterations: number;
  max_iterations: number;
  convergence_threshold: number;
  early_stopped: boolean;
  early_stop_reason: string | null;
  total_samples: number;
  converged_samples: number;
  failed_samples: number;
  created_at: string;
  completed_at: string | null;
  total_duration_seconds: number | null;
}

export interface IterationSummary {
  iteration: number;
  timestamp: string | null;
  duration_seconds: number | null;
  processed_samples: number;
  failed_samples: number;
  newly_converged: number;
}

export interface IterationHistory {
  global_info: GlobalInfo;
  samples: Record<string, SampleHistory>;
  iteration_summaries: IterationSummary[];
}

export interface RetryRequest {
  task_id: number;
  sample_indices?: number[];
}

export interface RetryResponse {
  new_task_id: number;
  original_task_id: number;
  retrying_samples: number[];
  message: string;
}

export interface ConvergenceStats {
  task_id: number;
  total_samples: number;
  converged_samples: number;
  convergence_rate: number;
  average_convergence_iteration: number;
  fastest_convergence_iteration: number;
  slowest_convergence_iteration: number;
  samples_by_convergence_speed: { fast: number; medium: number; slow: number };
}

export interface AccuracyScores {
  iteration?: number;
  n: number;
  mae: number | null;
  rmse: number | null;
  r2: number | null;
}

export interface TargetAccuracy {
  rounds: AccuracyScores[];
  baseline_first: AccuracyScores | null;
  final: AccuracyScores | null;
  improved: boolean | null;
}

export interface ScatterPoint {
  sample_index: number;
  sample_id: string;
  predicted: number | null;
  measured: number | null;
}

export interface Accuracy {
  task_id: number;
  has_ground_truth: boolean;
  targets: Record<string, TargetAccuracy>;
  scatter: Record<string, ScatterPoint[]>;
}
