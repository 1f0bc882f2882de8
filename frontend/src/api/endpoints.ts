/** One function per backend endpoint the dashboard uses. */
import { apiFetch, postJson } from './client';
import type {
  Accuracy,
  ApiToken,
  AuditPage,
  LoginRequest,
  LoginResponse,
  Me,
  NewApiToken,
  TokenRequest,
  User,
  UserCreate,
  UserUpdate,
  ConvergenceStats,
  Dataset,
  DatasetList,
  DatasetWithPreview,
  IterationHistory,
  PromptPreviewRequest,
  PromptPreviewResponse,
  RetryRequest,
  RetryResponse,
  StartRequest,
  StartResponse,
  Task,
  TaskList,
} from './types';

export const api = {
  listDatasets: (signal?: AbortSignal) => apiFetch<DatasetList>('/api/datasets', { signal }),

  getDataset: (id: Dataset['dataset_id'], signal?: AbortSignal) =>
    apiFetch<DatasetWithPreview>(`/api/datasets/${encodeURIComponent(String(id))}`, { signal }),

  uploadDataset: (file: File) => {
    const form = new FormData();
    form.append('file', file);
    return apiFetch<Dataset>('/api/datasets', { method: 'POST', body: form });
  },

  listTasks: (params: { limit: number; offset: number; status?: string }, signal?: AbortSignal) => {
    const q = new URLSearchParams({ limit: String(params.limit), offset: String(params.offset) });
    if (params.status) q.set('status', params.status);
    return apiFetch<TaskList>(`/api/tasks?${q.toString()}`, { signal });
  },

  getTask: (id: number, signal?: AbortSignal) => apiFetch<Task>(`/api/tasks/${id}`, { signal }),

  cancelTask: (id: number) => apiFetch<Task>(`/api/tasks/${id}/cancel`, { method: 'POST' }),

  startTask: (body: StartRequest) => postJson<StartResponse>('/api/iterative-prediction/start', body),

  previewPrompt: (body: PromptPreviewRequest) =>
    postJson<PromptPreviewResponse>('/api/iterative-prediction/preview-prompt', body),

  /** The whole history, or with `since` (the `cursor` of an earlier answer) only the samples
   *  that changed after it (merge with `mergeHistory`). */
  getHistory: (id: number, signal?: AbortSignal, since?: string) =>
    apiFetch<IterationHistory>(
      `/api/results/${id}/iterations${since ? `?since=${encodeURIComponent(since)}` : ''}`,
      { signal },
    ),

  getConvergenceStats: (id: number, signal?: AbortSignal) =>
    apiFetch<ConvergenceStats>(`/api/iterative-prediction/convergence-stats?task_id=${id}`, { signal }),

  getAccuracy: (id: number, signal?: AbortSignal) => apiFetch<Accuracy>(`/api/results/${id}/accuracy`, { signal }),

  retryFailed: (taskId: number, sampleIndices?: number[]) => {
    const body: RetryRequest = { task_id: taskId };
    if (sampleIndices && sampleIndices.length) body.sample_indices = sampleIndices;
    return postJson<RetryResponse>('/api/iterative-prediction/retry-failed', body);
  },

  // Accounts
  me: (signal?: AbortSignal) => apiFetch<Me>('/api/auth/me', { signal }),

  login: (body: LoginRequest) => postJson<LoginResponse>('/api/auth/login', body),

  /** Ends every session of the user on the server (all devices), not only this tab's. */
  logout: () => apiFetch<void>('/api/auth/logout', { method: 'POST' }),

  listTokens: (signal?: AbortSignal) => apiFetch<ApiToken[]>('/api/auth/tokens', { signal }),

  createToken: (body: TokenRequest) => postJson<NewApiToken>('/api/auth/tokens', body),

  revokeToken: (id: number) => apiFetch<ApiToken>(`/api/auth/tokens/${id}`, { method: 'DELETE' }),

  listUsers: (signal?: AbortSignal) => apiFetch<User[]>('/api/users', { signal }),

  createUser: (body: UserCreate) => postJson<User>('/api/users', body),

  updateUser: (id: number, body: UserUpdate) =>
    apiFetch<User>(`/api/users/${id}`, { method: 'PATCH', body: JSON.stringify(body) }),

  listAudit: (params: { limit: number; offset: number }, signal?: AbortSignal) =>
    apiFetch<AuditPage>(`/api/audit?limit=${params.limit}&offset=${params.offset}`, { signal }),
};
