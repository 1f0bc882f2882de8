/** The whole app in jsdom against a scripted fetch: 401 → login → back where you were; role gating. */
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, useLocation } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from '../App';
import { json, mockFetch } from '../test/http';
import { me } from '../test/fixtures';
import { AuthProvider } from './AuthContext';
import { getToken, resetSessionCache, setToken } from './session';

function Where() {
  const location = useLocation();
  return <div data-testid="where">{location.pathname + location.search}</div>;
}

function renderApp(path: string) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <App />
        <Where />
      </AuthProvider>
    </MemoryRouter>,
  );
}

const emptyTasks = () => json(200, { items: [], total: 0, limit: 25, offset: 0 });
const loginOk = (role: 'admin' | 'member' | 'viewer') => () => {
  const { auth_required: _, ...user } = me(role);
  return json(200, { access_token: `tok-${role}`, token_type: 'bearer', expires_at: new Date(Date.now() + 3600_000).toISOString(), user });
};
const unauthorized = () => json(401, { error: 'UNAUTHORIZED', details: 'send Authorization: Bearer <token>' }, { 'WWW-Authenticate': 'Bearer' });

beforeEach(() => {
  sessionStorage.clear();
  resetSessionCache();
});
afterEach(() => vi.unstubAllGlobals());

describe('auth flow', () => {
  it('single-user mode: no login, a note in the header, everything offered', async () => {
    mockFetch({ 'GET /api/auth/me': () => json(200, me('admin', false)), 'GET /api/tasks': emptyTasks });
    renderApp('/tasks');
    expect(await screen.findByRole('heading', { name: 'Tasks' })).toBeInTheDocument();
    expect(screen.getByText('Single-user mode, no login')).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'New task' })).toBeInTheDocument();
    expect(within(nav).queryByRole('link', { name: 'API tokens' })).toBeNull();
    expect(within(nav).queryByRole('link', { name: 'Users' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Log out' })).toBeNull();
  });

  it('401 on load → login page keeping the page asked for; after login the token goes with every call', async () => {
    const { calls } = mockFetch({ 'GET /api/auth/me': unauthorized, 'POST /api/auth/login': loginOk('member'), 'GET /api/tasks': emptyTasks });
    renderApp('/tasks?status=failed');
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByTestId('where')).toHaveTextContent('/login?next=%2Ftasks%3Fstatus%3Dfailed');

    await userEvent.type(screen.getByLabelText('Username'), 'bob');
    await userEvent.type(screen.getByLabelText('Password'), 'correct horse battery');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));

    expect(await screen.findByText('No failed tasks.')).toBeInTheDocument();
    expect(screen.getByTestId('where')).toHaveTextContent('/tasks?status=failed');
    expect(screen.getByTestId('current-user')).toHaveTextContent(/bob\s*member/);
    const login = calls.find((c) => c.path === '/api/auth/login')!;
    expect(login.body).toEqual({ username: 'bob', password: 'correct horse battery' });
    const list = calls.find((c) => c.path.startsWith('/api/tasks'))!;
    expect(list.headers.get('Authorization')).toBe('Bearer tok-member');
    expect(getToken()).toBe('tok-member');
  });

  it('a stored token skips the login page', async () => {
    setToken('kept', null);
    const { calls } = mockFetch({ 'GET /api/auth/me': () => json(200, me('viewer')), 'GET /api/tasks': emptyTasks });
    renderApp('/tasks');
    expect(await screen.findByRole('heading', { name: 'Tasks' })).toBeInTheDocument();
    expect(calls[0]!.headers.get('Authorization')).toBe('Bearer kept');
  });

  it('wrong password and rate limit are explained; the wait blocks the button', async () => {
    let attempts = 0;
    mockFetch({
      'GET /api/auth/me': unauthorized,
      'POST /api/auth/login': () =>
        ++attempts === 1
          ? json(401, { error: 'UNAUTHORIZED', details: 'wrong username or password' })
          : json(429, { error: 'RATE_LIMITED', details: 'too many requests' }, { 'Retry-After': '37' }),
    });
    renderApp('/');
    await userEvent.type(await screen.findByLabelText('Username'), 'bob');
    await userEvent.type(screen.getByLabelText('Password'), 'nope');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong username or password');
    expect(screen.getByLabelText('Password')).toHaveValue('');
    expect(screen.getByLabelText('Password')).toHaveFocus();

    await userEvent.type(screen.getByLabelText('Password'), 'nope again');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many login attempts. Try again in 37 s.');
    expect(screen.getByRole('button', { name: /Log in \(wait 3\d s\)/ })).toBeDisabled();
  });

  it('a 401 during use goes back to login and then back to the page', async () => {
    setToken('soon-stale', null);
    let valid = true;
    mockFetch({
      'GET /api/auth/me': () => json(200, me('admin')),
      'GET /api/tasks': () => (valid ? emptyTasks() : unauthorized()),
      'POST /api/auth/login': () => {
        valid = true;
        return loginOk('admin')();
      },
      'GET /api/audit': () => (valid ? json(200, { items: [], total: 0 }) : unauthorized()),
    });
    renderApp('/admin/audit');
    expect(await screen.findByText('No events yet.')).toBeInTheDocument();
    valid = false;
    await userEvent.click(screen.getByRole('button', { name: 'Refresh' }));
    expect(await screen.findByText(/Your session has ended/)).toBeInTheDocument();
    expect(screen.getByTestId('where')).toHaveTextContent('/login?next=%2Fadmin%2Faudit');
    expect(getToken()).toBeNull();

    await userEvent.type(screen.getByLabelText('Username'), 'alice');
    await userEvent.type(screen.getByLabelText('Password'), 'admin password');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { name: 'Audit trail' })).toBeInTheDocument();
  });

  it('log out ends the session on the server, forgets the token and shows the login page', async () => {
    setToken('t', null);
    const { calls } = mockFetch({
      'GET /api/auth/me': () => json(200, me('member')),
      'GET /api/tasks': emptyTasks,
      'POST /api/auth/logout': () => ({ status: 204 }),
    });
    renderApp('/tasks');
    await userEvent.click(await screen.findByRole('button', { name: 'Log out' }));
    expect(await screen.findByText('You have logged out.')).toBeInTheDocument();
    expect(screen.getByTestId('where')).toHaveTextContent(/^\/login$/);
    expect(getToken()).toBeNull();
    const logout = calls.find((c) => c.path === '/api/auth/logout')!;
    expect(logout.method).toBe('POST');
    expect(logout.headers.get('Authorization')).toBe('Bearer t');
  });

  it('an unknown server answer on load is an error with a retry, not a login page', async () => {
    mockFetch({ 'GET /api/auth/me': () => json(503, { error: 'UNAVAILABLE', details: 'database is starting' }) });
    renderApp('/tasks');
    expect(await screen.findByRole('alert')).toHaveTextContent('database is starting');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});

describe('role gating', () => {
  it.each([
    ['viewer', false, false],
    ['member', true, false],
    ['admin', true, true],
  ] as const)('%s: new task %s, admin links %s', async (role, write, admin) => {
    setToken('t', null);
    mockFetch({ 'GET /api/auth/me': () => json(200, me(role)), 'GET /api/tasks': emptyTasks });
    renderApp('/tasks');
    await screen.findByText('No tasks yet.');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).queryByRole('link', { name: 'New task' }) !== null).toBe(write);
    expect(screen.queryAllByRole('link', { name: /New task|Start a task/ }).length > 0).toBe(write);
    expect(within(nav).queryByRole('link', { name: 'Users' }) !== null).toBe(admin);
    expect(within(nav).queryByRole('link', { name: 'Audit trail' }) !== null).toBe(admin);
    expect(within(nav).getByRole('link', { name: 'API tokens' })).toBeInTheDocument();
  });

  it('a viewer opening /new gets a reason, not the upload form', async () => {
    setToken('t', null);
    mockFetch({ 'GET /api/auth/me': () => json(200, me('viewer')) });
    renderApp('/new');
    expect(await screen.findByText('Starting a task needs the member role; you are a viewer.', { exact: false })).toBeInTheDocument();
    expect(screen.queryByLabelText('Upload test CSV')).toBeNull();
  });

  it('a member opening an admin page gets a reason', async () => {
    setToken('t', null);
    mockFetch({ 'GET /api/auth/me': () => json(200, me('member')) });
    renderApp('/admin/users');
    expect(await screen.findByText(/Managing users needs the admin role; you are a member\./)).toBeInTheDocument();
  });
});

describe('auth state waits for the server', () => {
  it('shows a loading state while /api/auth/me is pending', async () => {
    vi.stubGlobal('fetch', vi.fn(() => new Promise(() => undefined)));
    renderApp('/tasks');
    expect(screen.getByRole('status')).toHaveTextContent('Loading');
    await waitFor(() => expect(screen.queryByRole('heading', { name: 'Log in' })).toBeNull());
  });
});
