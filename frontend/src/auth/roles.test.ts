import { describe, expect, it } from 'vitest';
import { me } from '../test/fixtures';
import { asRole, canManage, canWrite, deniedReason, hasRole, isAdmin, manageDeniedReason } from './roles';

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

  it('lets admins act on every task, members on their own, viewers on none', () => {
    const member = me('member'); // account #2
    expect(canManage(member, 2)).toBe(true);
    expect(canManage(member, 7)).toBe(false);
    expect(canManage(member, null)).toBe(false);
    expect(canManage({ id: null, role: 'member' }, null)).toBe(false); // no id matches no owner
    expect(canManage(me('admin'), 7)).toBe(true);
    expect(canManage(me('admin'), null)).toBe(true);
    expect(canManage(me('admin', false), null)).toBe(true); // the local admin of single-user mode
    expect(canManage(me('viewer'), 3)).toBe(false); // a viewer reads even what it would own
    expect(canManage(null, 2)).toBe(false);
    expect(canManage({ id: 2, role: 'superuser' }, 2)).toBe(false);
  });

  it('says who may act when an action is not offered', () => {
    expect(manageDeniedReason(me('member'), 2, 'Cancelling', 'cancel it')).toBeNull();
    expect(manageDeniedReason(me('viewer'), 3, 'Cancelling', 'cancel it')).toBe('Cancelling needs the member role; you are a viewer.');
    expect(manageDeniedReason(me('member'), 7, 'Retrying', 'retry its samples')).toBe(
      'Only the account that started this task, or an admin, may retry its samples.',
    );
    expect(manageDeniedReason(me('member'), null, 'Cancelling', 'cancel it')).toBe('Only an admin may cancel it: this task has no owner account.');
  });
});
