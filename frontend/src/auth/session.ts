/**
 * The dashboard's session token: kept in memory and in sessionStorage (so a reload keeps the
 * login, a closed tab forgets it). Never in localStorage, never in a cookie.
 */

const KEY = 'ipd.session';

interface Stored {
  token: string;
  /** ISO time the server gave; a token past it is dropped without asking the server. */
  expiresAt: string | null;
}

let current: Stored | null = null;
let loaded = false;

function storage(): Storage | null {
  try {
    return typeof window !== 'undefined' ? window.sessionStorage : null;
  } catch {
    return null; // storage disabled: memory only
  }
}

function expired(s: Stored, now = Date.now()): boolean {
  if (!s.expiresAt) return false;
  const t = Date.parse(s.expiresAt);
  return !Number.isNaN(t) && t <= now;
}

export function getToken(): string | null {
  if (!loaded) {
    loaded = true;
    try {
      const raw = storage()?.getItem(KEY);
      const parsed: unknown = raw ? JSON.parse(raw) : null;
      if (parsed && typeof parsed === 'object' && typeof (parsed as Stored).token === 'string') current = parsed as Stored;
    } catch {
      current = null;
    }
  }
  if (current && expired(current)) clearToken();
  return current?.token ?? null;
}

export function setToken(token: string, expiresAt: string | null = null): void {
  current = { token, expiresAt };
  loaded = true;
  try {
    storage()?.setItem(KEY, JSON.stringify(current));
  } catch {
    // memory only
  }
}

export function clearToken(): void {
  current = null;
  loaded = true;
  try {
    storage()?.removeItem(KEY);
  } catch {
    // nothing stored
  }
}

type Listener = () => void;
const listeners = new Set<Listener>();

/** Called when the server answers 401 to a request that carried (or needed) credentials. */
export function onUnauthorized(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function notifyUnauthorized(): void {
  for (const l of [...listeners]) l();
}

/** For tests: forget the in-memory copy so the next read goes to sessionStorage again. */
export function resetSessionCache(): void {
  current = null;
  loaded = false;
}
