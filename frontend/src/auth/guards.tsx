/** Route guards: signed in (else the login page, remembering where to come back), and a role. */
import type { ReactNode } from 'react';
import { Link, Navigate, Outlet, useLocation } from 'react-router-dom';
import type { Role } from '../api/types';
import { EmptyState } from '../components/Feedback';
import { useAuth } from './AuthContext';
import { deniedReason } from './roles';

/** Where to go after logging in: only a path of this app (no `//host`, no scheme). */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/tasks';
  return next;
}

export function loginPath(from: { pathname: string; search: string }): string {
  const here = from.pathname + from.search;
  return here === '/' || here.startsWith('/login') ? '/login' : `/login?next=${encodeURIComponent(here)}`;
}

export function RequireAuth({ children }: { children?: ReactNode }) {
  const { user, state } = useAuth();
  const location = useLocation();
  // After "Log out" start afresh (the next person may have another role); otherwise come back here.
  if (!user) return <Navigate to={state.status === 'anonymous' && state.reason === 'logged-out' ? '/login' : loginPath(location)} replace />;
  return children ?? <Outlet />;
}

export function RequireRole({ role, action, children }: { role: Role; action: string; children: ReactNode }) {
  const { user } = useAuth();
  const reason = deniedReason(user, role, action);
  if (reason)
    return (
      <EmptyState title="Not available for your role.">
        <p>{reason} Ask an admin if you need it.</p>
        <Link to="/tasks">Go to the task list</Link>
      </EmptyState>
    );
  return children;
}
