/** Thin fetch wrapper: JSON in and out, the error envelope turned into ApiError. */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: string[];

  constructor(status: number, code: string, details: string[]) {
    super(details.length ? details.join('; ') : `${code} (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function normalizeDetails(details: unknown): string[] {
  if (details == null) return [];
  if (Array.isArray(details)) return details.map((d) => (typeof d === 'string' ? d : JSON.stringify(d)));
  if (typeof details === 'string') return [details];
  return [JSON.stringify(details)];
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (e.g. a proxy error page)
  }
  if (body && typeof body === 'object' && 'error' in body) {
    const env = body as { error: unknown; details?: unknown };
    return new ApiError(response.status, String(env.error), normalizeDetails(env.details));
  }
  return new ApiError(response.status, 'HTTP_ERROR', [`The server answered ${response.status} ${response.statusText}`.trim()]);
}

export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body && typeof init.body === 'string' && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/json');
  }
  headers.set('Accept', 'application/json');
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK_ERROR', ['Cannot reach the server; is the backend running?']);
  }
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return apiFetch<T>(path, { method: 'POST', body: JSON.stringify(body), signal });
}
