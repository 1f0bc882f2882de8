/**
 * Accounts on a production-mode backend of its own (ENVIRONMENT=production, a SECRET_KEY, the
 * first admin from the environment, fresh data dir): login page and the timed login flow, users,
 * an API token shown once and revoked, a viewer without start/cancel/retry, a member starting a
 * baseline task on MPEA data and cancelling, the audit trail, and the login rate limit.
 * The other specs use the development-mode backend of global-setup (no accounts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { APIRequestContext, Page } from '@playwright/test';
import { expectAccessible } from './a11y';
import { mpeaSplit, REPO_ROOT, TARGETS } from './data';
import { expect, screenshot, test, waitForTaskEnd } from './fixtures';
import { ARTIFACTS, startBackend } from './servers';
import type { Backend } from './servers';

const ADMIN = { username: 'admin', password: `adm-${randomBytes(9).toString('hex')}` };
const MEMBER = { username: 'mia', password: 'member-password-1' };
const VIEWER = { username: 'vic', password: 'viewer-password-1', reset: 'viewer-password-2' };
const LOGIN_LIMIT = 15;
const fakeUrl = process.env.E2E_FAKE_LLM_URL ?? '';

test.describe.configure({ mode: 'serial' });

let backend: Backend;
/** Shared between the serial tests. */
const state = { slowTaskId: 0 };

test.beforeAll(async () => {
  test.setTimeout(120_000);
  backend = await startBackend({
    env: {
      ENVIRONMENT: 'production',
      AUTH_REQUIRED: undefined,
      SECRET_KEY: randomBytes(30).toString('base64url').slice(0, 40),
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      LOGIN_RATE_LIMIT: String(LOGIN_LIMIT),
      RATE_LIMIT_WINDOW_SECONDS: '600',
      LLM_API_BASE: `${fakeUrl}/v1`,
    },
    logFile: join(ARTIFACTS, 'backend-auth.log'),
    dataDirPrefix: 'dashboard-e2e-auth-',
  });
});

test.afterAll(async () => {
  await backend?.stop();
});

async function login(page: Page, who: { username: string; password: string }, path = '/'): Promise<void> {
  await page.goto(`${backend.url}${path}`);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('current-user')).toContainText(who.username);
}

async function logout(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByText('You have logged out.')).toBeVisible();
}

/** The page's session token, to call the API as that user. */
async function sessionToken(page: Page): Promise<string> {
  const raw = await page.evaluate(() => sessionStorage.getItem('ipd.session'));
  return (JSON.parse(raw ?? '{}') as { token?: string }).token ?? '';
}

async function upload(request: APIRequestContext, token: string, name: string, text: string): Promise<string> {
  const response = await request.post(`${backend.url}/api/datasets`, {
    headers: { Authorization: `Bearer ${token}` },
    multipart: { file: { name, mimeType: 'text/csv', buffer: Buffer.from(text) } },
  });
  expect(response.status(), await response.text()).toBe(201);
  return ((await response.json()) as { path: string }).path;
}

test('login page, then the timed login flow of the first admin', async ({ page, allowConsoleError }) => {
  allowConsoleError(/status of 401/); // GET /api/auth/me without a session, and the wrong password

  // Timed: open the dashboard (no session) → login form → submit → the task list.
  const t0 = Date.now();
  await page.goto(`${backend.url}/`);
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  const formShown = Date.now();
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  const submitted = Date.now();
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByText('No tasks yet.')).toBeVisible();
  const done = Date.now();
  const timing = { total_ms: done - t0, open_to_form_ms: formShown - t0, submit_to_task_list_ms: done - submitted };
  console.log(`login flow: ${timing.total_ms} ms (page open → login form ${timing.open_to_form_ms} ms, submit → task list ${timing.submit_to_task_list_ms} ms)`);
  writeFileSync(join(ARTIFACTS, 'login-flow.json'), JSON.stringify(timing, null, 2) + '\n');
  await expect(page).toHaveURL(/\/tasks$/);
  await expect(page.getByTestId('current-user')).toHaveText(/admin\s*admin/);
  await logout(page);

  // The login page itself: screenshot, accessibility, a wrong password.
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(`${backend.url}/tasks?status=completed`);
  await expect(page).toHaveURL(/\/login\?next=%2Ftasks%3Fstatus%3Dcompleted$/);
  await expect(page.getByLabel('Username')).toBeFocused();
  await screenshot(page, 'login');
  const docs = resolve(REPO_ROOT, 'docs/screenshots');
  mkdirSync(docs, { recursive: true });
  await page.screenshot({ path: join(docs, 'login.png') });
  await expectAccessible(page, 'the login page');

  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill('not-the-password');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('login-error')).toHaveText('Wrong username or password (or the account is deactivated).');
  await expect(page.getByLabel('Password')).toBeFocused();
  // …and the right one brings back the page that was asked for.
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/tasks\?status=completed$/);
  await expect(page.getByText('No completed tasks.')).toBeVisible();
});

test('admin: users and roles, an API token shown once and revoked', async ({ page, context, request, allowConsoleError }) => {
  allowConsoleError(/status of 401/);
  await login(page, ADMIN);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  const users = page.getByTestId('users-table');
  await expect(users.getByRole('row')).toHaveCount(2);

  // Too short a password is caught before it is sent.
  await page.getByLabel('Username').fill(MEMBER.username);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByLabel('Password')).toHaveAccessibleDescription(/at least 10 characters/);
  await page.getByLabel('Password').fill(MEMBER.password);
  await page.getByLabel('Role', { exact: true }).selectOption('member');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByTestId('users-notice')).toHaveText('User mia created as member.');

  // The viewer is added as a member, then changed to viewer, and gets a new password.
  await page.getByLabel('Username').fill(VIEWER.username);
  await page.getByLabel('Password').fill(VIEWER.password);
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByTestId('users-notice')).toHaveText('User vic created as member.');
  await page.getByLabel('Role of vic').selectOption('viewer');
  await expect(page.getByTestId('users-notice')).toHaveText('vic is now viewer.');
  await page.getByRole('button', { name: 'Reset password of vic' }).click();
  await page.getByLabel('New password for vic').fill(VIEWER.reset);
  await page.getByRole('button', { name: 'Save password' }).click();
  await expect(page.getByTestId('users-notice')).toHaveText('Password of vic changed.');

  // Deactivate and activate again.
  await page.getByRole('button', { name: 'Deactivate mia' }).click();
  await expect(users.getByRole('row', { name: /mia/ })).toContainText('deactivated');
  await page.getByRole('button', { name: 'Activate mia' }).click();
  await expect(users.getByRole('row', { name: /mia/ })).toContainText('active');
  // One's own role and access are not offered.
  await expect(page.getByLabel('Role of admin')).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Deactivate admin' })).toHaveCount(0);
  await expect(users.getByRole('row')).toHaveCount(4);
  await screenshot(page, 'users');
  await expectAccessible(page, 'the users page');

  // A token: shown once, copyable, usable, then gone from the page; revoked, it stops working.
  await nav.getByRole('link', { name: 'API tokens' }).click();
  await expect(page.getByText('No tokens yet.')).toBeVisible();
  await page.getByLabel('Name').fill('e2e notebook');
  await page.getByLabel('Expires after (days, optional)').fill('7');
  await page.getByRole('button', { name: 'Create token' }).click();
  const notice = page.getByTestId('new-token');
  await expect(notice).toContainText("you won't see it again");
  const secret = await notice.getByLabel('New API token').inputValue();
  expect(secret).toMatch(/^ipt_/);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: backend.url });
  await notice.getByRole('button', { name: 'Copy' }).click();
  await expect(notice.getByRole('status')).toHaveText(/Copied to the clipboard|press Ctrl\+C/);
  await screenshot(page, 'token-created');
  await expectAccessible(page, 'the tokens page with a new token');
  const row = page.getByTestId('tokens-table').getByRole('row', { name: /e2e notebook/ });
  await expect(row).toContainText(secret.slice(0, 8));
  await expect(row).toContainText('active');

  // The token works for a script: it starts the slow LLM task the viewer and the member will see.
  const bearer = { Authorization: `Bearer ${secret}` };
  expect((await request.get(`${backend.url}/api/tasks`, { headers: bearer })).status()).toBe(200);
  await request.post(`${fakeUrl}/_reset`);
  const split = mpeaSplit(6, 30);
  const good = { 'YS(MPa)': 500, 'UTS(MPa)': 800, 'El(%)': 20 };
  await request.post(`${fakeUrl}/_script`, {
    // 1 s per call, one in flight, 8 rounds: it runs long enough to be seen running;
    // one sample fails at once (500 on every attempt), so the failed-samples panel shows early.
    data: { default: { values: good, converge_after: 8, latency: 1 }, samples: { [split.testIds[1]!]: { rounds: [{ status: 500 }] } } },
  });
  const started = await request.post(`${backend.url}/api/iterative-prediction/start`, {
    headers: bearer,
    data: {
      task_name: 'Slow fake LLM (token)',
      test_file_path: await upload(request, secret, 'slow_test.csv', split.test),
      reference_file_path: await upload(request, secret, 'slow_reference.csv', split.reference),
      target_properties: [...TARGETS],
      llm_provider: 'openai',
      llm_model: 'fake-model',
      enable_iteration: true,
      max_iterations: 8,
      early_stop: false,
      max_workers: 1,
    },
  });
  expect(started.status(), await started.text()).toBe(200);
  state.slowTaskId = ((await started.json()) as { task_id: number }).task_id;

  await notice.getByRole('button', { name: 'Done' }).click();
  await expect(notice).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('tokens-table')).toBeVisible();
  expect(await page.content()).not.toContain(secret);

  await page.getByRole('button', { name: 'Revoke e2e notebook' }).click();
  await page.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(row).toContainText(/revoked/i);
  await expect(page.getByRole('button', { name: 'Revoke e2e notebook' })).toHaveCount(0);
  expect((await request.get(`${backend.url}/api/tasks`, { headers: bearer })).status()).toBe(401);
});

test('viewer: reads, but is offered no start, upload, cancel or retry', async ({ page, request, allowConsoleError }) => {
  allowConsoleError(/status of 401/);
  expect(state.slowTaskId).toBeGreaterThan(0);
  await login(page, { username: VIEWER.username, password: VIEWER.reset });
  await expect(page.getByTestId('current-user')).toHaveText(/vic\s*viewer/);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'New task' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Audit trail' })).toHaveCount(0);
  await expect(page.getByTestId('tasks-table')).toContainText('Slow fake LLM (token)');
  await expect(page.getByRole('link', { name: 'New task' })).toHaveCount(0);

  await page.getByRole('link', { name: 'Slow fake LLM (token)', exact: true }).click();
  await expect(page.getByTestId('task-status')).toHaveText('running');
  await expect(page.getByTestId('failed-panel')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('task-status')).toHaveText('running');
  await expect(page.getByRole('button', { name: /Cancel/ })).toHaveCount(0);
  await expect(page.getByTestId('cancel-denied')).toHaveText('Cancelling needs the member role; you are a viewer.');
  await expect(page.getByRole('button', { name: /Retry/ })).toHaveCount(0);
  await expect(page.getByTestId('retry-denied')).toBeVisible();
  await screenshot(page, 'viewer-running-task');

  // The page only mirrors the server: a viewer's cancel is refused there too.
  const refused = await request.post(`${backend.url}/api/tasks/${state.slowTaskId}/cancel`, {
    headers: { Authorization: `Bearer ${await sessionToken(page)}` },
  });
  expect(refused.status()).toBe(403);

  await page.goto(`${backend.url}/new`);
  await expect(page.getByText('Starting a task needs the member role; you are a viewer.')).toBeVisible();
  await expect(page.getByLabel('Upload test CSV')).toHaveCount(0);
  await page.goto(`${backend.url}/admin/audit`);
  await expect(page.getByText('Reading the audit trail needs the admin role; you are a viewer.')).toBeVisible();
});

test("member: starts a baseline task on MPEA data; may not cancel the admin's slow one", async ({ page, request, allowConsoleError }) => {
  allowConsoleError(/status of 401/);
  const split = mpeaSplit(8, 40);
  await login(page, MEMBER);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Audit trail' })).toHaveCount(0);

  await nav.getByRole('link', { name: 'New task' }).click();
  await page.getByLabel('Upload test CSV').setInputFiles({ name: 'member_test.csv', mimeType: 'text/csv', buffer: Buffer.from(split.test) });
  await expect(page.getByTestId('dataset-test').getByText('member_test.csv: 8 rows')).toBeVisible();
  await page.getByLabel('Upload reference CSV').setInputFiles({ name: 'member_reference.csv', mimeType: 'text/csv', buffer: Buffer.from(split.reference) });
  await expect(page.getByTestId('dataset-reference').getByText('member_reference.csv: 40 rows')).toBeVisible();
  await page.getByLabel('Task name').fill('Member baseline');
  for (const target of TARGETS) await page.getByTestId('targets').getByLabel(target, { exact: true }).check();
  await page.getByTestId('features').getByLabel('Formula', { exact: true }).uncheck();
  await page.getByLabel('Rounds (max_iterations)', { exact: true }).fill('3');
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page).toHaveURL(/\/tasks\/\d+$/);
  expect(await waitForTaskEnd(page)).toBe('completed');
  await expect(page.getByTestId('convergence-stats')).toContainText('/8)');

  // The slow task is the admin's: a member reads it, is offered no cancel or retry but told who
  // may act, and the server refuses the cancel anyway.
  await page.goto(`${backend.url}/tasks/${state.slowTaskId}`);
  await expect(page.getByTestId('task-status')).toHaveText('running');
  await expect(page.getByTestId('cancel-denied')).toHaveText('Only the account that started this task, or an admin, may cancel it.');
  await expect(page.getByRole('button', { name: /Cancel/ })).toHaveCount(0);
  await expect(page.getByTestId('failed-panel')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('retry-denied')).toHaveText('Only the account that started this task, or an admin, may retry its samples.');
  await expect(page.getByRole('button', { name: /Retry/ })).toHaveCount(0);
  const refused = await request.post(`${backend.url}/api/tasks/${state.slowTaskId}/cancel`, {
    headers: { Authorization: `Bearer ${await sessionToken(page)}` },
  });
  expect(refused.status()).toBe(403);
  await expect(page.getByTestId('task-status')).toHaveText('running');
});

test('admin: the audit trail lists the actions; the login rate limit says how long to wait', async ({ page, allowConsoleError }) => {
  allowConsoleError(/status of (401|429)/);
  // Its owner (an admin may act on every task) cancels the slow task; its failed sample stays
  // retryable, and so do the ones the cancel stopped early.
  await login(page, ADMIN, `/tasks/${state.slowTaskId}`);
  await expect(page.getByTestId('task-status')).toHaveText('running');
  await page.getByRole('button', { name: 'Cancel task' }).click();
  await page.getByRole('button', { name: 'Yes, cancel it' }).click();
  expect(await waitForTaskEnd(page, 30_000)).toBe('cancelled');
  await expect(page.getByTestId('failed-panel').getByRole('button', { name: /^Retry failed and stopped \(\d+\)$/ })).toBeEnabled();
  await expect(page.getByTestId('failed-panel')).toContainText('stopped early');

  await page.goto(`${backend.url}/admin/audit`);
  await expect(page.getByRole('heading', { name: 'Audit trail' })).toBeVisible();
  const table = page.getByTestId('audit-table');
  for (const action of ['login', 'user_create', 'user_update', 'token_create', 'token_revoke', 'upload', 'start', 'cancel'])
    await expect(table.getByRole('cell', { name: action, exact: true }).first()).toBeVisible();
  // the wrong password of the first test, as a failed login of "admin"
  await expect(table.getByRole('row', { name: /login\s+admin.*failed/ }).first()).toBeVisible();
  await expect(table.getByRole('row', { name: /mia\s+cancel\s+task/ })).toBeVisible();
  await expect(table.getByRole('row', { name: /admin\s+user_update\s+vic.*password: changed/ })).toBeVisible();
  await screenshot(page, 'audit');
  await expectAccessible(page, 'the audit trail');
  await logout(page);

  // Wrong passwords until the limit answers 429 (at most LOGIN_LIMIT per window and address).
  const error = page.getByTestId('login-error');
  for (let i = 0; i <= LOGIN_LIMIT; i++) {
    await page.getByLabel('Username').fill('nobody');
    await page.getByLabel('Password').fill(`wrong-${i}`);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/auth/login')),
      page.getByRole('button', { name: 'Log in', exact: true }).click(),
    ]);
    if (answer.status() === 429) break;
    expect(answer.status()).toBe(401);
  }
  await expect(error).toHaveText(/^Too many login attempts\. Try again in \d+ s\.$/);
  await expect(page.getByRole('button', { name: /^Log in \(wait \d+ s\)$/ })).toBeDisabled();
  await screenshot(page, 'login-rate-limited');
});
