import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../../api/endpoints';
import type { ApiToken, NewApiToken } from '../../api/types';
import { useAuth } from '../../auth/AuthContext';
import { isAdmin } from '../../auth/roles';
import { EmptyState, ErrorBanner, FieldError, Loading } from '../../components/Feedback';
import { errorText } from '../../lib/errorText';
import { formatDateTime } from '../../lib/format';
import { useAsync } from '../../lib/useAsync';
import NewTokenNotice from './NewTokenNotice';

export function tokenState(token: ApiToken, now = Date.now()): 'active' | 'revoked' | 'expired' {
  if (token.revoked_at) return 'revoked';
  if (token.expires_at && Date.parse(token.expires_at) <= now) return 'expired';
  return 'active';
}

/** Parse the optional expiry field: '' → null (never), else a whole number of days in 1–3650. */
export function parseExpiryDays(value: string): { days: number | null; error?: string } {
  if (!value.trim()) return { days: null };
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3650) return { days: null, error: 'Expiry must be a whole number of days between 1 and 3650, or empty for none.' };
  return { days: n };
}

export default function TokensPage() {
  const { user, authRequired } = useAuth();
  const admin = isAdmin(user);
  const tokens = useAsync((signal) => (authRequired ? api.listTokens(signal) : Promise.resolve([])), [authRequired]);
  const users = useAsync((signal) => (admin && authRequired ? api.listUsers(signal) : Promise.resolve([])), [admin, authRequired]);
  const names = useMemo(() => new Map((users.data ?? []).map((u) => [u.id, u.username])), [users.data]);

  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [errors, setErrors] = useState<{ name?: string[]; days?: string[]; general?: string[] }>({});
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [revokeError, setRevokeError] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<number | null>(null);

  if (!authRequired)
    return (
      <>
        <h1>API tokens</h1>
        <EmptyState title="Accounts are off on this server.">
          API tokens need accounts (ENVIRONMENT=production or AUTH_REQUIRED=true). In single-user mode scripts call the API
          without a token.
        </EmptyState>
      </>
    );

  const onCreate = async (e: FormEvent) => {
    e.preventDefault();
    const expiry = parseExpiryDays(days);
    const next: typeof errors = {};
    if (!name.trim()) next.name = ['Give the token a name, e.g. the script or notebook that will use it.'];
    if (expiry.error) next.days = [expiry.error];
    setErrors(next);
    if (next.name || next.days) {
      document.getElementById(next.name ? 'token-name' : 'token-days')?.focus();
      return;
    }
    setCreating(true);
    try {
      const token = await api.createToken({ name: name.trim(), expires_in_days: expiry.days });
      setCreated(token);
      setName('');
      setDays('');
      tokens.reload();
    } catch (err) {
      setErrors({ general: [errorText(err)] });
    } finally {
      setCreating(false);
    }
  };

  const revoke = async (id: number) => {
    setBusyId(id);
    setRevokeError(null);
    try {
      await api.revokeToken(id);
      setConfirming(null);
      tokens.reload();
    } catch (err) {
      setRevokeError(errorText(err));
    } finally {
      setBusyId(null);
    }
  };

  const list = tokens.data ?? [];

  return (
    <>
      <div className="page-header">
        <div>
          <h1>API tokens</h1>
          <p className="muted" style={{ margin: 0 }}>
            For scripts and notebooks: send <code>Authorization: Bearer TOKEN</code>. A token acts with your role
            {user ? ` (${user.role})` : ''}.{admin ? ' As an admin you see everyone’s tokens.' : ''}
          </p>
        </div>
      </div>

      {created ? <NewTokenNotice key={created.id} token={created} onDone={() => setCreated(null)} /> : null}

      <section className="panel" aria-labelledby="create-token-title">
        <h2 id="create-token-title">Create a token</h2>
        <form className="form-row" onSubmit={onCreate} noValidate>
          <div className="field">
            <label htmlFor="token-name">Name</label>
            <input
              id="token-name"
              type="text"
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={!!errors.name}
              aria-describedby={errors.name ? 'token-name-error' : undefined}
            />
            <FieldError id="token-name-error" messages={errors.name} />
          </div>
          <div className="field">
            <label htmlFor="token-days">Expires after (days, optional)</label>
            <input
              id="token-days"
              type="number"
              min={1}
              max={3650}
              step={1}
              value={days}
              onChange={(e) => setDays(e.target.value)}
              aria-invalid={!!errors.days}
              aria-describedby={errors.days ? 'token-days-error token-days-hint' : 'token-days-hint'}
            />
            <span id="token-days-hint" className="hint">
              Empty: valid until revoked.
            </span>
            <FieldError id="token-days-error" messages={errors.days} />
          </div>
          <div className="field">
            <span className="field-label" aria-hidden="true">
              &nbsp;
            </span>
            <button type="submit" className="btn btn--primary" disabled={creating}>
              {creating ? 'Creating…' : 'Create token'}
            </button>
          </div>
        </form>
        <FieldError id="token-form-error" messages={errors.general} />
      </section>

      <ErrorBanner error={tokens.error} onRetry={tokens.reload} />
      {revokeError ? (
        <div className="error-banner" role="alert">
          <span>{revokeError}</span>
        </div>
      ) : null}
      <section className="panel" aria-labelledby="tokens-title">
        <h2 id="tokens-title">{admin ? 'All tokens' : 'Your tokens'}</h2>
        {tokens.loading && !tokens.data ? (
          <Loading label="Loading tokens…" />
        ) : list.length === 0 ? (
          tokens.error ? null : <EmptyState title="No tokens yet.">Create one above for a script or a notebook.</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="data" aria-labelledby="tokens-title" data-testid="tokens-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  {admin ? <th scope="col">Owner</th> : null}
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => {
                  const st = tokenState(t);
                  return (
                    <tr key={t.id}>
                      <td>{t.name}</td>
                      <td>
                        <code>{t.prefix}…</code>
                      </td>
                      {admin ? <td>{names.get(t.user_id) ?? `user #${t.user_id}`}</td> : null}
                      <td>{formatDateTime(t.created_at)}</td>
                      <td>{t.expires_at ? formatDateTime(t.expires_at) : 'never'}</td>
                      <td>{t.last_used_at ? formatDateTime(t.last_used_at) : 'never'}</td>
                      <td>
                        <span className={`badge badge--${st === 'active' ? 'completed' : st === 'revoked' ? 'cancelled' : 'pending'}`}>
                          {st === 'revoked' ? `revoked ${formatDateTime(t.revoked_at)}` : st}
                        </span>
                      </td>
                      <td>
                        {st !== 'revoked' ? (
                          confirming === t.id ? (
                            <span className="inline-form">
                              <span>Revoke “{t.name}”?</span>
                              <button type="button" className="btn btn--small btn--danger" disabled={busyId === t.id} onClick={() => revoke(t.id)}>
                                {busyId === t.id ? 'Revoking…' : 'Yes, revoke'}
                              </button>
                              <button type="button" className="btn btn--small" onClick={() => setConfirming(null)}>
                                Keep
                              </button>
                            </span>
                          ) : (
                            <button type="button" className="btn btn--small btn--danger" onClick={() => setConfirming(t.id)} aria-label={`Revoke ${t.name}`}>
                              Revoke
                            </button>
                          )
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
