import { describe, expect, it } from 'vitest';
import { asRole, canWrite, deniedReason, hasRole, isAdmin } from './roles';

describe('roles', () => {
  it('ranks viewer < member < admin', () => {
    expect(hasRole({ role: 'admin' }, 'member')).toBe(true);
    expect(hasRole({ role: 'member' }, 'member')).toBe(true);
    expect(hasRole({ role: 'viewer' }, 'member')).toBe(false);
    expect(hasRole({ role: 'member' }, 'admin')).toBe(false);
  });

  it('fails closed for nobody and unknown roles', () => {
    expect(canWrite(null)).toBe(false);
    expect(canWrite(undefined)).toBe(false);
    expect(hasRole({ role: 'superuser' }, 'viewer')).toBe(false);
    expect(asRole('Admin')).toBeNull();
  });

  it('names the gates', () => {
    expect(canWrite({ role: 'member' })).toBe(true);
    expect(isAdmin({ role: 'member' })).toBe(false);
    expect(isAdmin({ role: 'admin' })).toBe(true);
  });

  it('explains a refusal and says nothing when allowed', () => {
    expect(deniedReason({ role: 'viewer' }, 'member', 'Starting a task')).toBe('Starting a task needs the member role; you are a viewer.');
    expect(deniedReason(null, 'admin', 'Managing users')).toBe('Managing users needs the admin role; you are not signed in.');
    expect(deniedReason({ role: 'admin' }, 'member', 'Starting a task')).toBeNull();
  });
});
