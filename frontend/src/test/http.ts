/** A scripted `fetch` for component tests: routes by method and path, records every request. */
import { vi } from 'vitest';

export interface Recorded {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

type Handler = (req: Recorded) => { status?: number; body?: unknown; headers?: Record<string, string> };

export function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return { status, body, headers };
}

export function mockFetch(routes: Record<string, Handler>) {
  const calls: Recorded[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://localhost');
    const method = (init.method ?? 'GET').toUpperCase();
    const req: Recorded = {
      method,
      path: url.pathname + url.search,
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
    };
    calls.push(req);
    const handler = routes[`${method} ${url.pathname}`] ?? routes[`${method} ${url.pathname}${url.search}`];
    const answer = handler ? handler(req) : { status: 404, body: { error: 'NOT_FOUND', details: `no mock for ${method} ${url.pathname}` } };
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { 'Content-Type': 'application/json', ...(answer.headers ?? {}) },
    });
  });
  vi.stubGlobal('fetch', fn);
  return { calls, fn };
}
