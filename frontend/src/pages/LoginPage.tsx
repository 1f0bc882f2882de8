import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { ApiError } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { safeNext } from '../auth/guards';
import { errorText } from '../lib/errorText';

/** Seconds left until `until` (ms), updated every second while positive. */
function useCountdown(until: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until == null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [until]);
  return until == null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
}

export function loginErrorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Wrong username or password (or the account is deactivated).';
    if (err.status === 429) return `Too many login attempts. Try again in ${err.retryAfter ?? 60} s.`;
    if (err.status === 422) return 'Enter a username and a password.';
  }
  return errorText(err);
}

export default function LoginPage() {
  const { state, login } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [blockedUntil, setBlockedUntil] = useState<number | null>(null);
  const wait = useCountdown(blockedUntil);
  const userRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Log in · Iterative property prediction';
    return () => {
      document.title = 'Iterative property prediction';
    };
  }, []);

  if (state.status === 'signed-in' && !busy) return <Navigate to={state.user.auth_required ? next : '/tasks'} replace />;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError('Enter a username and a password.');
      (username.trim() ? passwordRef : userRef).current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      setBusy(false);
      setError(loginErrorText(err));
      if (err instanceof ApiError && err.status === 429) setBlockedUntil(Date.now() + (err.retryAfter ?? 60) * 1000);
      else setBlockedUntil(null);
      if (err instanceof ApiError && err.status === 401) {
        setPassword('');
        passwordRef.current?.focus();
      }
    }
  };

  const reason = state.status === 'anonymous' ? state.reason : 'initial';
  const blocked = wait > 0;

  return (
    <>
      <header className="topbar">
        <div className="topbar__inner">
          <span className="brand">Iterative property prediction</span>
        </div>
      </header>
      <main id="main" className="page login">
        <form className="panel" onSubmit={onSubmit} noValidate aria-labelledby="login-title">
          <h1 id="login-title">Log in</h1>
          <p className="muted">This server needs an account. Ask an admin for one.</p>
          {reason === 'expired' ? (
            <p className="notice" role="status">
              Your session has ended. Log in again to continue.
            </p>
          ) : reason === 'logged-out' ? (
            <p className="notice" role="status">
              You have logged out.
            </p>
          ) : null}
          <div className="field">
            <label htmlFor="login-username">Username</label>
            <input
              ref={userRef}
              id="login-username"
              type="text"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              autoFocus
              required
              value={username}
              aria-invalid={!!error && !username.trim()}
              onChange={(e) => setUsername(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="login-password">Password</label>
            <input
              ref={passwordRef}
              id="login-password"
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              aria-invalid={!!error && !password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          {error ? (
            <div className="error-banner" role="alert" data-testid="login-error">
              <span>{error}</span>
            </div>
          ) : null}
          <button type="submit" className="btn btn--primary" disabled={busy || blocked}>
            {busy ? 'Logging in…' : blocked ? `Log in (wait ${wait} s)` : 'Log in'}
          </button>
        </form>
      </main>
    </>
  );
}
