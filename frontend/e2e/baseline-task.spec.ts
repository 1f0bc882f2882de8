/**
 * The researcher's main path with the baseline provider (no LLM): upload an MPEA split, pick the
 * columns, see field errors, preview the prompt, start, watch it finish, read charts, table and accuracy.
 */
import { readFileSync } from 'node:fs';
import { mpeaSplit, TARGETS } from './data';
import { expectAccessible } from './a11y';
import { expect, screenshot, test, waitForTaskEnd } from './fixtures';

test('baseline task on an MPEA split: configure, run, read convergence and accuracy', async ({ page, baseUrl, allowConsoleError }) => {
  const split = mpeaSplit(8, 40);

  await page.goto(`${baseUrl}/`);
  await expect(page.getByRole('heading', { name: 'Tasks' })).toBeVisible();
  await expect(page.getByText('No tasks yet.')).toBeVisible();
  await page.getByRole('link', { name: 'New task' }).first().click();
  await expect(page.getByRole('heading', { name: 'New task' })).toBeVisible();

  // Upload both files through the drop zones' file inputs.
  await page.getByLabel('Upload test CSV').setInputFiles({ name: 'mpea_test.csv', mimeType: 'text/csv', buffer: Buffer.from(split.test) });
  const testPanel = page.getByTestId('dataset-test');
  await expect(testPanel.getByText('mpea_test.csv: 8 rows')).toBeVisible();
  await expect(testPanel.getByRole('columnheader', { name: /UTS\(MPa\)\s*numeric/ })).toBeVisible();
  await expect(testPanel.getByRole('columnheader', { name: /Processing\s*text/ })).toBeVisible();
  await page.getByLabel('Upload reference CSV').setInputFiles({ name: 'mpea_reference.csv', mimeType: 'text/csv', buffer: Buffer.from(split.reference) });
  await expect(page.getByTestId('dataset-reference').getByText('mpea_reference.csv: 40 rows')).toBeVisible();

  // Columns: targets, ID (guessed), inputs (Formula left out).
  await expect(page.getByLabel('Task name')).toHaveValue('mpea_test');
  await page.getByLabel('Task name').fill('MPEA baseline e2e');
  for (const target of TARGETS) await page.getByTestId('targets').getByLabel(target, { exact: true }).check();
  await expect(page.getByTestId('ground-truth-note')).toContainText('never shown to the model');
  await expect(page.getByLabel('ID column of the test file')).toHaveValue('ID');
  await page.getByTestId('features').getByLabel('Formula', { exact: true }).uncheck();

  // A range error is shown next to its field, and blocks the start.
  await page.getByLabel('Rounds (max_iterations)', { exact: true }).fill('12');
  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page.locator('#field-max_iterations-error')).toHaveText('max_iterations must be between 1 and 10');
  await expect(page).toHaveURL(/\/new$/);
  await page.getByLabel('Rounds (max_iterations)', { exact: true }).fill('4');
  await expect(page.locator('#field-max_iterations-error')).toHaveCount(0);

  // A server-side validation error lands next to its field too (the client does not check this one).
  allowConsoleError(/status of 4\d\d/);
  await page.getByLabel('Provider').selectOption('openai');
  await page.getByLabel('Model').fill('m'.repeat(300));
  await page.getByRole('button', { name: 'Preview prompt' }).click();
  await expect(page.locator('#field-llm_model-error')).toContainText('llm_model');
  await page.getByLabel('Provider').selectOption('baseline');
  await expect(page.locator('#field-llm_model-error')).toHaveCount(0);

  // Round-1 prompt of the first sample, rendered without a model call.
  await page.getByRole('button', { name: 'Preview prompt' }).click();
  const prompt = page.getByTestId('prompt-preview');
  await expect(prompt).toContainText(split.testIds[0]!);
  await expect(prompt).not.toContainText('Formula');
  await screenshot(page, 'new-task');
  await expectAccessible(page, 'the new-task page');

  await page.getByRole('button', { name: 'Start task' }).click();
  await expect(page).toHaveURL(/\/tasks\/\d+$/);
  const taskUrl = page.url();
  expect(await waitForTaskEnd(page)).toBe('completed');

  // Progress, counters, charts, stats.
  await expect(page.getByRole('progressbar', { name: 'Task progress' })).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByText('baseline', { exact: true }).first()).toBeVisible();
  await expect(page.getByTestId('trend-chart').locator('canvas').first()).toBeVisible();
  await expect(page.getByTestId('heatmap-chart').locator('canvas').first()).toBeVisible();
  await expect(page.getByTestId('convergence-stats')).toContainText('converged (8/8)');

  // Table: 8 rows, sortable, filterable, row selection highlights the sample.
  const table = page.getByRole('table', { name: /^Samples/ });
  await expect(table.getByRole('row')).toHaveCount(9);
  await table.getByRole('button', { name: 'Sample' }).click();
  await table.getByRole('button', { name: /^Sample/ }).click();
  await expect(table.getByRole('columnheader', { name: /Sample/ }).first()).toHaveAttribute('aria-sort', 'descending');
  const sortedIds = [...split.testIds].sort().reverse();
  await expect(table.getByRole('row').nth(1)).toContainText(sortedIds[0]!);
  await table.getByRole('row').nth(1).click();
  await expect(table.getByRole('row').nth(1)).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByLabel('Highlight')).toHaveValue(/\d+/);
  await page.getByLabel('Filter').fill(split.testIds[2]!);
  await expect(table.getByRole('row')).toHaveCount(2);
  await page.getByLabel('Filter').fill('');

  // Accuracy against the measured values kept in the test file.
  const accuracy = page.getByTestId('accuracy-panel');
  await expect(accuracy.getByTestId('accuracy-verdict')).toHaveText(/^(Yes|No|Mixed)/);
  await expect(accuracy.getByRole('table', { name: /Accuracy per target/ })).toContainText('MAE');
  for (const target of TARGETS) await expect(accuracy.getByRole('table')).toContainText(target);
  await expect(accuracy.getByTestId('accuracy-scatter').locator('canvas').first()).toBeVisible();

  // Exports: the server's files, through the dashboard's buttons.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  expect(csv.suggestedFilename()).toMatch(/^task-\d+-final\.csv$/);
  const csvText = readFileSync((await csv.path())!, 'utf8');
  const bounds = TARGETS.flatMap((t) => [`${t}_lower`, `${t}_upper`]);
  expect(csvText.split(/\r?\n/)[0]).toBe(`sample_index,sample_id,status,converged_at_iteration,${TARGETS.join(',')},${bounds.join(',')}`);
  expect(csvText.trim().split(/\r?\n/)).toHaveLength(9);
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  const exported = JSON.parse(readFileSync((await json.path())!, 'utf8'));
  expect(exported.layout).toBe('rounds');
  expect(new Set(exported.rows.map((r: { sample_index: number }) => r.sample_index)).size).toBe(8);

  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'finished-task');
  await expectAccessible(page, 'the finished task page');

  // The list shows it, labelled as baseline; the status filter works; reload keeps the deep link.
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  const row = page.getByTestId('tasks-table').getByRole('row', { name: /MPEA baseline e2e/ });
  await expect(row).toContainText('baseline');
  await expect(row).toContainText('completed');
  await expect(row).toContainText('8/8');
  await expectAccessible(page, 'the task list');
  await page.getByLabel('Status').selectOption('failed');
  await expect(page.getByText('No failed tasks.')).toBeVisible();
  await page.getByLabel('Status').selectOption('completed');
  await expect(page.getByTestId('tasks-table').getByRole('row')).toHaveCount(2);
  await page.goto(taskUrl);
  await expect(page.getByRole('heading', { name: /MPEA baseline e2e/ })).toBeVisible();
});
