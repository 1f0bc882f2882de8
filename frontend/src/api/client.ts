/**
 * Thin fetch wrapper: JSON in and out, the error envelope turned into ApiError, the session token
 * sent as `Authorization: Bearer`, and a 401 reported to the auth state (back to the login page).
 */
import { clearToken, getToken, notifyUnauthorized } from '../auth/session';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: string[];
  /** Seconds from a 429's Retry-After header, when it had one. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, details: string[], retryAfter: number | null = null) {
    super(details.length ? details.join('; ') : `${code} (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export function normalizeDetails(details: unknown): string[] {
  if (details == null) return [];
  if (Array.isArray(details)) return details.map((d) => (typeof d === 'string' ? d : JSON.stringify(d)));
  if (typeof details === 'string') return [details];
  return [JSON.stringify(details)];
}

export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

async function toApiError(response: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (e.g. a proxy error page)
  }
  if (body && typeof body === 'object' && 'error' in body) {
    const env = body as { error: unknown; details?: unknown };
    return new ApiError(response.status, String(env.error), normalizeDetails(env.details), retryAfter);
  }
  return new ApiError(response.status, 'HTTP_ERROR', [`The server answered ${response.status} ${response.statusText}`.trim()], retryAfter);
}

/** Requests whose 401 means "wrong credentials", not "the session is over". */
const LOGIN_PATH = '/api/auth/login';

export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await send(path, init);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A file the server sends (an export): its bytes and the name it suggests. */
export async function apiFetchBlob(path: string): Promise<{ blob: Blob; filename: string | null }> {
  const response = await send(path, { headers: { Accept: '*/*' } });
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? null;
  return { blob: await response.blob(), filename };
}

async function send(path: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = path === LOGIN_PATH ? null : getToken();
  if (token && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${token}`);
  if (init.body && typeof init.body === 'string' && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/json');
  }
  if (!headers.has('Accept')) headers.set('Accept', 'application/json');
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK_ERROR', ['Cannot reach the server; is the backend running?']);
  }
  if (!response.ok) {
    const error = await toApiError(response);
    // A late 401 for a token that has since been replaced (logged in again) is not news.
    if (response.status === 401 && path !== LOGIN_PATH && token === getToken()) {
      clearToken();
      notifyUnauthorized();
    }
    throw error;
  }
  return response;
}

export function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return apiFetch<T>(path, { method: 'POST', body: JSON.stringify(body), signal });
}
