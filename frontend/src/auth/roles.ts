/** Roles and what each may do in the dashboard (the server enforces the same on every endpoint). */
import type { Role } from '../api/types';
import { RoleValues } from '../api/vocabulary';

/** In rank order, as the backend lists them: each role may do what the ones before it may. */
export const ROLES: readonly Role[] = RoleValues;

const rank = (role: Role) => ROLES.indexOf(role);

export const ROLE_HELP: Record<Role, string> = {
  viewer: 'reads tasks and results',
  member: 'also uploads datasets, starts, cancels and retries tasks',
  admin: 'also manages users and reads the audit trail',
};

export function asRole(value: string | null | undefined): Role | null {
  return ROLES.find((role) => role === value) ?? null;
}

/** True when `user` has at least the `needed` role. No user, or an unknown role, may do nothing. */
export function hasRole(user: { role: string } | null | undefined, needed: Role): boolean {
  const role = asRole(user?.role);
  return role !== null && rank(role) >= rank(needed);
}

/** Upload, start, cancel, retry, preview. */
export const canWrite = (user: { role: string } | null | undefined) => hasRole(user, 'member');

/** Users and the audit trail. */
export const isAdmin = (user: { role: string } | null | undefined) => hasRole(user, 'admin');

/** Why an action needing `needed` is not offered, or null when it is allowed. */
export function deniedReason(user: { role: string } | null | undefined, needed: Role, action: string): string | null {
  if (hasRole(user, needed)) return null;
  const role = asRole(user?.role) ?? 'not signed in';
  return `${action} needs the ${needed} role; you are ${role === 'not signed in' ? role : `a ${role}`}.`;
}
