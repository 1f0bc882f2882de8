/**
 * Who is using the dashboard. On load it asks GET /api/auth/me: with accounts off the server
 * answers for the local admin (no login); with accounts on, a missing or stale token gives 401
 * and the login page. Any later 401 from any request ends the session the same way.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import { api } from '../api/endpoints';
import type { Me } from '../api/types';
import { clearToken, onUnauthorized, setToken } from './session';

export type AuthState =
  | { status: 'loading' }
  | { status: 'error'; error: unknown }
  /** `expired`: a request was refused (session over, account deactivated); `logged-out`: the user asked. */
  | { status: 'anonymous'; reason: 'initial' | 'expired' | 'logged-out' }
  | { status: 'signed-in'; user: Me };

export interface AuthValue {
  state: AuthState;
  /** The signed-in user (or the local admin of a single-user set-up); null otherwise. */
  user: Me | null;
  /** False in single-user mode: no login, no tokens. */
  authRequired: boolean;
  login: (username: string, password: string) => Promise<Me>;
  logout: () => void;
  reload: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ status: 'loading' });
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setState({ status: 'loading' });
    api
      .me(controller.signal)
      .then((me) => {
        if (!controller.signal.aborted) setState({ status: 'signed-in', user: me });
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        if (err instanceof ApiError && err.status === 401) setState({ status: 'anonymous', reason: 'initial' });
        else setState({ status: 'error', error: err });
      });
    return () => controller.abort();
  }, [nonce]);

  useEffect(
    () =>
      onUnauthorized(() =>
        setState((prev) => (prev.status === 'signed-in' ? { status: 'anonymous', reason: 'expired' } : prev)),
      ),
    [],
  );

  const login = useCallback(async (username: string, password: string) => {
    const answer = await api.login({ username, password });
    setToken(answer.access_token, answer.expires_at);
    const me: Me = { ...answer.user, auth_required: true };
    setState({ status: 'signed-in', user: me });
    return me;
  }, []);

  const logout = useCallback(() => {
    // The request takes the token with it before it is forgotten here; a failure changes nothing.
    api.logout().catch(() => undefined);
    clearToken();
    setState({ status: 'anonymous', reason: 'logged-out' });
  }, []);

  const reload = useCallback(() => setNonce((n) => n + 1), []);

  const value = useMemo<AuthValue>(() => {
    const user = state.status === 'signed-in' ? state.user : null;
    return { state, user, authRequired: user ? user.auth_required : true, login, logout, reload };
  }, [state, login, logout, reload]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

/** A fixed user, for component tests and stories. */
export function StaticAuthProvider({ user, children }: { user: Me | null; children: ReactNode }) {
  const value = useMemo<AuthValue>(
    () => ({
      state: user ? { status: 'signed-in', user } : { status: 'anonymous', reason: 'initial' },
      user,
      authRequired: user ? user.auth_required : true,
      login: () => Promise.reject(new Error('StaticAuthProvider cannot log in')),
      logout: () => undefined,
      reload: () => undefined,
    }),
    [user],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

const NOBODY: AuthValue = {
  state: { status: 'anonymous', reason: 'initial' },
  user: null,
  authRequired: true,
  login: () => Promise.reject(new Error('no AuthProvider')),
  logout: () => undefined,
  reload: () => undefined,
};

/** Outside a provider nobody is signed in, so nothing role-gated is offered (fail closed). */
export function useAuth(): AuthValue {
  return useContext(AuthContext) ?? NOBODY;
}
