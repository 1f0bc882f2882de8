import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiFetch, ApiError, parseRetryAfter } from '../api/client';
import { json, mockFetch } from '../test/http';
import { clearToken, getToken, onUnauthorized, resetSessionCache, setToken } from './session';

beforeEach(() => {
  sessionStorage.clear();
  resetSessionCache();
});
afterEach(() => vi.unstubAllGlobals());

describe('session token', () => {
  it('survives a reload through sessionStorage, not localStorage', () => {
    setToken('abc', null);
    resetSessionCache();
    expect(getToken()).toBe('abc');
    expect(localStorage.length).toBe(0);
    clearToken();
    resetSessionCache();
    expect(getToken()).toBeNull();
  });

  it('drops a token past its expiry', () => {
    setToken('old', new Date(Date.now() - 1000).toISOString());
    expect(getToken()).toBeNull();
    expect(sessionStorage.length).toBe(0);
  });
});

describe('apiFetch with accounts', () => {
  it('sends the token as a bearer on every request, but never to login', async () => {
    const { calls } = mockFetch({
      'GET /api/tasks': () => json(200, { items: [], total: 0 }),
      'POST /api/auth/login': () => json(401, { error: 'UNAUTHORIZED', details: 'wrong username or password' }),
    });
    setToken('s3cret', null);
    await apiFetch('/api/tasks');
    await expect(apiFetch('/api/auth/login', { method: 'POST', body: '{}' })).rejects.toBeInstanceOf(ApiError);
    expect(calls[0]!.headers.get('Authorization')).toBe('Bearer s3cret');
    expect(calls[1]!.headers.get('Authorization')).toBeNull();
    // a wrong password is not the end of a session
    expect(getToken()).toBe('s3cret');
  });

  it('sends nothing without a token', async () => {
    const { calls } = mockFetch({ 'GET /api/tasks': () => json(200, { items: [], total: 0 }) });
    await apiFetch('/api/tasks');
    expect(calls[0]!.headers.has('Authorization')).toBe(false);
  });

  it('on 401 forgets the token and tells the listeners', async () => {
    mockFetch({ 'GET /api/tasks': () => json(401, { error: 'UNAUTHORIZED', details: 'the token is invalid, expired or revoked' }) });
    const heard = vi.fn();
    const stop = onUnauthorized(heard);
    setToken('stale', null);
    const err = await apiFetch('/api/tasks').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect(getToken()).toBeNull();
    expect(heard).toHaveBeenCalledTimes(1);
    stop();
  });

  it('ignores a late 401 of a token that was replaced meanwhile', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        await gate;
        return new Response(JSON.stringify({ error: 'UNAUTHORIZED' }), { status: 401 });
      }),
    );
    const heard = vi.fn();
    const stop = onUnauthorized(heard);
    setToken('old', null);
    const pending = apiFetch('/api/tasks').catch(() => undefined);
    setToken('new', null);
    release();
    await pending;
    expect(getToken()).toBe('new');
    expect(heard).not.toHaveBeenCalled();
    stop();
  });

  it('reads Retry-After of a 429', async () => {
    mockFetch({ 'POST /api/auth/login': () => json(429, { error: 'RATE_LIMITED', details: 'too many requests' }, { 'Retry-After': '37' }) });
    const err = (await apiFetch('/api/auth/login', { method: 'POST', body: '{}' }).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.retryAfter).toBe(37);
  });

  it('parses both Retry-After forms', () => {
    expect(parseRetryAfter('5')).toBe(5);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30);
    expect(parseRetryAfter('soon')).toBeNull();
  });
});
