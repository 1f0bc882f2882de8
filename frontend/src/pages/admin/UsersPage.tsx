import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../../api/endpoints';
import { FIELD_LIMITS } from '../../api/vocabulary';
import type { Role, User, UserUpdate } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { asRole, ROLE_HELP, ROLES } from '../../auth/roles';
import { EmptyState, ErrorBanner, FieldError, Loading } from '../../components/Feedback';
import { errorText } from '../../lib/errorText';
import { useAsync } from '../../lib/useAsync';

export const MIN_PASSWORD = FIELD_LIMITS.UserCreate.password.minLength;
const USERNAME = /^[A-Za-z0-9._@-]+$/;

export function validateNewUser(username: string, password: string): { username?: string[]; password?: string[] } {
  const out: { username?: string[]; password?: string[] } = {};
  if (!username.trim()) out.username = ['Enter a username.'];
  else if (username.length > 64 || !USERNAME.test(username)) out.username = ['Use up to 64 letters, digits and . _ @ -'];
  if (password.length < MIN_PASSWORD) out.password = [`The password needs at least ${MIN_PASSWORD} characters.`];
  return out;
}

export default function UsersPage() {
  const { user: me } = useAuth();
  const users = useAsync((signal) => api.listUsers(signal), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);

  const update = async (u: User, body: UserUpdate, done: string): Promise<boolean> => {
    setRowError(null);
    setNotice(null);
    try {
      await api.updateUser(u.id ?? 0, body);
      setNotice(done);
      users.reload();
      return true;
    } catch (err) {
      setRowError(`${u.username}: ${errorText(err)}`);
      return false;
    }
  };

  const list = users.data ?? [];

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Users</h1>
          <p className="muted" style={{ margin: 0 }}>
            {ROLES.map((r) => `${r}: ${ROLE_HELP[r]}`).join(' · ')}.
          </p>
        </div>
      </div>

      <AddUserForm
        onCreated={(u) => {
          setNotice(`User ${u.username} created as ${u.role}.`);
          users.reload();
        }}
      />

      <p className="small" role="status" aria-live="polite" data-testid="users-notice">
        {notice}
      </p>
      <ErrorBanner error={users.error} onRetry={users.reload} />
      {rowError ? (
        <div className="error-banner" role="alert">
          <span>{rowError}</span>
        </div>
      ) : null}

      <section className="panel" aria-labelledby="users-title">
        <h2 id="users-title">Accounts</h2>
        {users.loading && !users.data ? (
          <Loading label="Loading users…" />
        ) : list.length === 0 ? (
          users.error ? null : <EmptyState title="No users yet." />
        ) : (
          <div className="table-wrap">
            <table className="data" aria-labelledby="users-title" data-testid="users-table">
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((u) => (
                  <UserRow key={u.id ?? u.username} user={u} isSelf={me?.id === u.id} onUpdate={update} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function AddUserForm({ onCreated }: { onCreated: (u: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [errors, setErrors] = useState<{ username?: string[]; password?: string[]; general?: string[] }>({});
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const found = validateNewUser(username, password);
    setErrors(found);
    if (found.username || found.password) {
      document.getElementById(found.username ? 'new-username' : 'new-password')?.focus();
      return;
    }
    setBusy(true);
    try {
      const created = await api.createUser({ username: username.trim(), password, role });
      setUsername('');
      setPassword('');
      setRole('member');
      onCreated(created);
    } catch (err) {
      setErrors({ general: [errorText(err)] });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="add-user-title">
      <h2 id="add-user-title">Add a user</h2>
      <form className="form-row" onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor="new-username">Username</label>
          <input
            id="new-username"
            type="text"
            autoComplete="off"
            maxLength={64}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={!!errors.username}
            aria-describedby={errors.username ? 'new-username-error' : undefined}
          />
          <FieldError id="new-username-error" messages={errors.username} />
        </div>
        <div className="field">
          <label htmlFor="new-password">Password</label>
          <input
            id="new-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={!!errors.password}
            aria-describedby={errors.password ? 'new-password-error new-password-hint' : 'new-password-hint'}
          />
          <span id="new-password-hint" className="hint">
            At least {MIN_PASSWORD} characters; tell it to the user another way.
          </span>
          <FieldError id="new-password-error" messages={errors.password} />
        </div>
        <div className="field">
          <label htmlFor="new-role">Role</label>
          <select id="new-role" value={role} onChange={(e) => setRole(asRole(e.target.value) ?? 'viewer')}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <span className="field-label" aria-hidden="true">
            &nbsp;
          </span>
          <button type="submit" className="btn btn--primary" disabled={busy}>
            {busy ? 'Adding…' : 'Add user'}
          </button>
        </div>
      </form>
      <FieldError id="add-user-error" messages={errors.general} />
    </section>
  );
}

interface RowProps {
  user: User;
  isSelf: boolean;
  onUpdate: (u: User, body: UserUpdate, done: string) => Promise<boolean>;
}

function UserRow({ user: u, isSelf, onUpdate }: RowProps) {
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState('');
  const [pwError, setPwError] = useState<string[] | undefined>();
  const [busy, setBusy] = useState(false);
  const selfNote = `user-${u.id}-self`;

  const run = async (body: UserUpdate, done: string) => {
    setBusy(true);
    const ok = await onUpdate(u, body, done);
    setBusy(false);
    return ok;
  };

  const savePassword = async (e: FormEvent) => {
    e.preventDefault();
    if (password.length < MIN_PASSWORD) {
      setPwError([`At least ${MIN_PASSWORD} characters.`]);
      return;
    }
    setPwError(undefined);
    if (await run({ password }, `Password of ${u.username} changed.`)) {
      setPassword('');
      setResetting(false);
    }
  };

  return (
    <tr>
      <td>
        {u.username}
        {isSelf ? (
          <span id={selfNote} className="muted small">
            {' '}
            (you: your own role and access can't be changed here)
          </span>
        ) : null}
      </td>
      <td>
        <label htmlFor={`role-${u.id}`} className="visually-hidden">
          Role of {u.username}
        </label>
        <select
          id={`role-${u.id}`}
          value={u.role}
          disabled={busy || isSelf}
          aria-describedby={isSelf ? selfNote : undefined}
          onChange={(e) => {
            const role = asRole(e.target.value);
            if (role) void run({ role }, `${u.username} is now ${role}.`);
          }}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </td>
      <td>
        <span className={`badge badge--${u.active ? 'completed' : 'cancelled'}`}>{u.active ? 'active' : 'deactivated'}</span>
      </td>
      <td>
        <div className="inline-form">
          {isSelf ? null : (
            <button
              type="button"
              className={u.active ? 'btn btn--small btn--danger' : 'btn btn--small'}
              disabled={busy}
              onClick={() => run({ active: !u.active }, `${u.username} ${u.active ? 'deactivated' : 'activated'}.`)}
            >
              {u.active ? 'Deactivate' : 'Activate'}
              <span className="visually-hidden"> {u.username}</span>
            </button>
          )}
          {resetting ? (
            <form className="inline-form" onSubmit={savePassword} noValidate>
              <label htmlFor={`pw-${u.id}`} className="visually-hidden">
                New password for {u.username}
              </label>
              <input
                id={`pw-${u.id}`}
                type="password"
                autoComplete="new-password"
                autoFocus
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-invalid={!!pwError}
                aria-describedby={pwError ? `pw-${u.id}-error` : undefined}
              />
              <button type="submit" className="btn btn--small btn--primary" disabled={busy}>
                Save password
              </button>
              <button type="button" className="btn btn--small" onClick={() => setResetting(false)}>
                Cancel
              </button>
              <FieldError id={`pw-${u.id}-error`} messages={pwError} />
            </form>
          ) : (
            <button type="button" className="btn btn--small" onClick={() => setResetting(true)}>
              Reset password<span className="visually-hidden"> of {u.username}</span>
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
