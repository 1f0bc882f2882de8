/**
 * An LLM task against the scripted fake OpenAI-compatible server (devstack/fakellm.py):
 * two samples fail (a 500 on every attempt of round 2; an unparseable answer), the page lists
 * them with their error types, "Retry failed" starts a new task holding just those two, and it finishes.
 */
import { mpeaSplit, TARGETS } from './data';
import type { Page } from '@playwright/test';
import { expect, screenshot, test, waitForTaskEnd } from './fixtures';

async function pickDataset(page: Page, kind: 'test' | 'reference', filename: string): Promise<void> {
  const select = page.getByTestId(`dataset-${kind}`).getByLabel('…or pick an uploaded dataset');
  const value = await select.locator('option', { hasText: filename }).first().getAttribute('value');
  await select.selectOption(value ?? '');
}

const fakeUrl = process.env.E2E_FAKE_LLM_URL ?? '';


test('LLM task with two failing samples, retried from the page', async ({ page, baseUrl, request }) => {
  const split = mpeaSplit(6, 30);
  const [, brokenAtRound2, , , garbled] = split.testIds as [string, string, string, string, string];
  const good = { 'YS(MPa)': 500, 'UTS(MPa)': 800, 'El(%)': 20 };

  await request.post(`${fakeUrl}/_reset`);
  await request.post(`${fakeUrl}/_script`, {
    data: {
      // unscripted samples answer `values`, 10 % higher in round 1, then steady: converged at round 2
      default: { values: good, converge_after: 2 },
      samples: {
        [brokenAtRound2]: { rounds: [good, { status: 500 }] },
        [garbled]: { rounds: [{ text: 'the alloy looks strong, maybe 800 MPa' }] },
      },
    },
  });

  // Datasets uploaded beforehand (through the API), then picked in the form.
  for (const [name, text] of [
    ['llm_test.csv', split.test],
    ['llm_reference.csv', split.reference],
  ] as const) {
    const response = await request.post(`${baseUrl}/api/datasets`, { multipart: { file: { name, mimeType: 'text/csv', buffer: Buffer.from(text) } } });
    expect(response.status()).toBe(201);
  }

  await page.goto(`${baseUrl}/new`);
  await pickDataset(page, 'test', 'llm_test.csv');
  await expect(page.getByTestId('dataset-test').getByText('llm_test.csv: 6 rows')).toBeVisible();
  await pickDataset(page, 'reference', 'llm_reference.csv');
  await expect(page.getByTestId('dataset-reference').getByText('llm_reference.csv: 30 rows')).toBeVisible();
  await page.getByLabel('Task name').fill('Fake LLM with failures');
  for (const target of TARGETS) await page.getByTestId('targets').getByLabel(target, { exact: true }).check();
  await page.getByLabel('Provider').selectOption('openai');
  await page.getByLabel('Model').fill('fake-model');
  await page.getByLabel('Rounds (max_iterations)', { exact: true }).fill('3');
  await page.getByLabel('Temperature', { exact: true }).fill('0');
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page).toHaveURL(/\/tasks\/\d+$/);
  const originalUrl = page.url();
  const originalId = originalUrl.split('/').pop();

  expect(await waitForTaskEnd(page)).toBe('completed');
  await expect(page.getByText('openai/fake-model')).toBeVisible();
  const failedPanel = page.getByTestId('failed-panel');
  await expect(failedPanel.getByRole('heading')).toHaveText('Failed samples (2)');
  await expect(failedPanel).toContainText(brokenAtRound2);
  await expect(failedPanel).toContainText(garbled);
  await expect(failedPanel).toContainText('server_error');
  await expect(failedPanel).toContainText('parse_error');
  await expect(failedPanel).toContainText('failed in round 2');
  await expect(page.getByTestId('accuracy-panel')).toContainText('MAE');
  // The failed filter of the table shows exactly those two.
  await page.getByLabel('Status', { exact: true }).selectOption('failed');
  await expect(page.getByRole('table', { name: /^Samples/ }).getByRole('row')).toHaveCount(3);
  await screenshot(page, 'failed-samples');

  // Now the provider behaves; retry both from the page.
  await request.post(`${fakeUrl}/_script`, {
    data: { samples: { [brokenAtRound2]: { rounds: [good] }, [garbled]: { rounds: [good] } } },
  });
  await failedPanel.getByRole('button', { name: 'Retry failed (2)' }).click();
  await expect(page).not.toHaveURL(originalUrl);
  await expect(page).toHaveURL(/\/tasks\/\d+$/);
  await expect(page.getByText(`Retry of task #${originalId}`)).toBeVisible();
  expect(await waitForTaskEnd(page)).toBe('completed');
  await expect(page.getByTestId('task-progress')).toContainText('2samples');
  await expect(page.getByTestId('failed-panel')).toHaveCount(0);
  const table = page.getByRole('table', { name: /^Samples/ });
  await expect(table.getByRole('row')).toHaveCount(3);
  await expect(table).toContainText(brokenAtRound2);
  await expect(table).toContainText(garbled);
  await screenshot(page, 'retried-task');
});

test('a running LLM task updates live and can be cancelled from the page', async ({ page, baseUrl, request }) => {
  const split = mpeaSplit(6, 30);
  await request.post(`${fakeUrl}/_reset`);
  // every call takes 0.4 s; with one call in flight the task runs for several seconds
  await request.post(`${fakeUrl}/_script`, { data: { default: { values: { 'YS(MPa)': 500, 'UTS(MPa)': 800, 'El(%)': 20 }, converge_after: 3, latency: 0.4 } } });
  const paths: string[] = [];
  for (const [name, text] of [
    ['cancel_test.csv', split.test],
    ['cancel_reference.csv', split.reference],
  ] as const) {
    const response = await request.post(`${baseUrl}/api/datasets`, { multipart: { file: { name, mimeType: 'text/csv', buffer: Buffer.from(text) } } });
    paths.push(((await response.json()) as { path: string }).path);
  }
  const started = await request.post(`${baseUrl}/api/iterative-prediction/start`, {
    data: {
      task_name: 'Slow fake LLM, cancelled',
      test_file_path: paths[0],
      reference_file_path: paths[1],
      target_properties: [...TARGETS],
      llm_provider: 'openai',
      llm_model: 'fake-model',
      enable_iteration: true,
      max_iterations: 5,
      max_workers: 1,
    },
  });
  expect(started.status()).toBe(200);
  const taskId = ((await started.json()) as { task_id: number }).task_id;

  await page.goto(`${baseUrl}/tasks/${taskId}`);
  await expect(page.getByTestId('task-status')).toHaveText('running');
  await expect(page.getByText('Live — updating every 2 s')).toBeVisible();
  // predictions arrive while we watch: the table fills in without a reload
  await expect(page.getByRole('table', { name: /^Samples/ }).getByRole('row').nth(1)).toBeVisible({ timeout: 20_000 });
  const progress = page.getByRole('progressbar', { name: 'Task progress' });
  const before = Number(await progress.getAttribute('aria-valuenow'));
  await expect.poll(async () => Number(await progress.getAttribute('aria-valuenow')), { timeout: 20_000 }).toBeGreaterThan(before);

  await page.getByRole('button', { name: 'Cancel task' }).click();
  await page.getByRole('button', { name: 'Yes, cancel it' }).click();
  expect(await waitForTaskEnd(page, 30_000)).toBe('cancelled');
  await expect(page.getByRole('button', { name: 'Cancel task' })).toHaveCount(0);
  await expect(page.getByText('Live — updating every 2 s')).toHaveCount(0);
});

test('a task started from the form with a priority and a budget shows them; the budget stops it', async ({ page, baseUrl, request }) => {
  const split = mpeaSplit(6, 30);
  await request.post(`${fakeUrl}/_reset`);
  // Never converges within 3 rounds: without a budget, 6 samples × 3 rounds = 18 calls. The model
  // is one litellm has a price for (gpt-4o-mini), answered by the fake server.
  await request.post(`${fakeUrl}/_script`, { data: { default: { values: { 'YS(MPa)': 500, 'UTS(MPa)': 800, 'El(%)': 20 }, converge_after: 10 } } });
  for (const [name, text] of [
    ['budget_test.csv', split.test],
    ['budget_reference.csv', split.reference],
  ] as const) {
    const response = await request.post(`${baseUrl}/api/datasets`, { multipart: { file: { name, mimeType: 'text/csv', buffer: Buffer.from(text) } } });
    expect(response.status()).toBe(201);
  }

  await page.goto(`${baseUrl}/new`);
  await pickDataset(page, 'test', 'budget_test.csv');
  await expect(page.getByTestId('dataset-test').getByText('budget_test.csv: 6 rows')).toBeVisible();
  await pickDataset(page, 'reference', 'budget_reference.csv');
  await expect(page.getByTestId('dataset-reference').getByText('budget_reference.csv: 30 rows')).toBeVisible();
  await page.getByLabel('Task name').fill('Fake LLM on a budget');
  for (const target of TARGETS) await page.getByTestId('targets').getByLabel(target, { exact: true }).check();
  await page.getByLabel('Provider').selectOption('openai');
  await page.getByLabel('Model').fill('gpt-4o-mini');
  await page.getByLabel('Rounds (max_iterations)', { exact: true }).fill('3');
  await page.getByLabel('Parallel calls (max_workers)', { exact: true }).fill('1');

  // The preview's estimate sits next to the budget, and stays there while priority and budget change.
  const estimate = page.getByTestId('budget-estimate');
  await expect(estimate).toHaveText('Preview the prompt to see the estimated cost.');
  await page.getByRole('button', { name: 'Preview prompt' }).click();
  await expect(page.getByTestId('prompt-preview')).toBeVisible();
  await expect(estimate).toHaveText(/^Estimated cost: \$[\d.]+–\$[\d.]+$/);
  const budget = page.getByLabel('Budget (USD)');
  await budget.fill('0');
  await page.getByLabel('Priority').fill('5');
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page.locator('#field-max_cost_usd-error')).toContainText('max_cost_usd must be a number of dollars greater than 0');
  await expect(page).toHaveURL(/\/new$/);
  await budget.fill('0.0001');
  await expect(page.locator('#field-max_cost_usd-error')).toHaveCount(0);
  await expect(estimate).toContainText('the budget is below the whole estimate');
  await expect(page.getByTestId('prompt-preview')).toBeVisible();
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page).toHaveURL(/\/tasks\/\d+$/);
  const taskId = Number(page.url().split('/').pop());

  // What was sent is what the task holds, and its page shows it.
  const held = (await (await request.get(`${baseUrl}/api/tasks/${taskId}`)).json()) as { priority: number; max_cost_usd: number | null };
  expect(held).toMatchObject({ priority: 5, max_cost_usd: 0.0001 });
  await expect(page.getByTestId('task-priority')).toHaveText('Priority 5');
  await expect(page.getByTestId('task-budget')).toHaveText(/^Budget \$0\.0001/);

  // The budget is spent after a call or two: the task completes early, its samples left to retry.
  expect(await waitForTaskEnd(page)).toBe('completed');
  await expect(page.getByTestId('task-budget')).toHaveText('Budget $0.0001 · budget spent');
  await expect(page.getByTestId('task-progress')).toContainText('its budget (max_cost_usd) was spent');
  const panel = page.getByTestId('failed-panel');
  await expect(panel.getByRole('heading')).toHaveText('Samples stopped early (6)');
  await expect(panel.getByText('stopped early', { exact: true })).toHaveCount(6);
  await expect(panel.getByRole('button', { name: 'Retry stopped (6)' })).toBeEnabled();
  await panel.getByRole('checkbox', { name: `Select ${split.testIds[5]} for retry` }).check();
  await expect(panel.getByRole('button', { name: 'Retry selected (1)' })).toBeEnabled();
  await screenshot(page, 'budget-spent');
});
