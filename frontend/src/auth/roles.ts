/** Roles and what each may do in the dashboard (the server enforces the same on every endpoint). */
import type { Role } from '../api/types';
import { RoleValues } from '../api/vocabulary';

/** In rank order, as the backend lists them: each role may do what the ones before it may. */
export const ROLES: readonly Role[] = RoleValues;

const rank = (role: Role) => ROLES.indexOf(role);

export const ROLE_HELP: Record<Role, string> = {
  viewer: 'reads tasks and results',
  member: 'also uploads datasets, starts tasks, and cancels and retries the tasks they started',
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

type Account = { id?: number | null; role: string } | null | undefined;

/**
 * May `user` cancel or retry a task started by `ownerId` (the task's `owner_id`)? Admins act on
 * every task; a member only on the ones they started; a viewer on none. With accounts off the
 * local admin acts on all (its tasks have no owner). Mirrors the server, which answers 403 otherwise.
 */
export function canManage(user: Account, ownerId: number | null | undefined): boolean {
  if (!user) return false;
  // The local admin of a single-user set-up (id null, tasks without owner) is an admin too.
  if (isAdmin(user)) return true;
  return canWrite(user) && user.id != null && ownerId != null && ownerId === user.id;
}

/**
 * Why cancelling or retrying this task is not offered to `user`, or null when it is. `gerund`
 * names the action for a role that falls short ("Cancelling"), `verb` what the owner may do
 * ("cancel it").
 */
export function manageDeniedReason(user: Account, ownerId: number | null | undefined, gerund: string, verb: string): string | null {
  if (canManage(user, ownerId)) return null;
  if (!canWrite(user)) return deniedReason(user, 'member', gerund);
  return ownerId == null
    ? `Only an admin may ${verb}: this task has no owner account.`
    : `Only the account that started this task, or an admin, may ${verb}.`;
}
