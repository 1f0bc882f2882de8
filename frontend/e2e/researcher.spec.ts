/**
 * The researcher's view on a fake-LLM run: a sample's conversation round by round, the compare
 * page with the baseline run on the same test set, and the export through the API.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mpeaSplit, REPO_ROOT, TARGETS } from './data';
import { expect, screenshot, test } from './fixtures';

const fakeUrl = process.env.E2E_FAKE_LLM_URL ?? '';

test('rounds, compare with the baseline, export', async ({ page, baseUrl, request }) => {
  const split = mpeaSplit(5, 40);
  await request.post(`${fakeUrl}/_reset`);
  await request.post(`${fakeUrl}/_script`, {
    data: { default: { values: { 'YS(MPa)': 900, 'UTS(MPa)': 1100, 'El(%)': 15 }, converge_after: 1 } },
  });
  const paths: string[] = [];
  for (const [name, text] of [
    ['researcher_test.csv', split.test],
    ['researcher_reference.csv', split.reference],
  ] as const) {
    const response = await request.post(`${baseUrl}/api/datasets`, { multipart: { file: { name, mimeType: 'text/csv', buffer: Buffer.from(text) } } });
    expect(response.status()).toBe(201);
    paths.push((await response.json()).path);
  }
  const started = await request.post(`${baseUrl}/api/iterative-prediction/start`, {
    data: {
      task_name: 'Fake LLM for comparison',
      test_file_path: paths[0],
      reference_file_path: paths[1],
      target_properties: TARGETS,
      llm_provider: 'openai',
      llm_model: 'fake-model',
      temperature: 0,
      max_iterations: 3,
    },
  });
  expect(started.status()).toBe(200);
  const taskId: number = (await started.json()).task_id;
  await expect
    .poll(async () => (await (await request.get(`${baseUrl}/api/tasks/${taskId}`)).json()).status, { timeout: 60_000 })
    .toBe('completed');

  // A sample's conversation: click its row, read round 2, then round 1.
  await page.goto(`${baseUrl}/tasks/${taskId}`);
  const firstId = split.testIds[0] ?? '';
  await page.getByRole('table', { name: /^Samples/ }).getByRole('row', { name: new RegExp(firstId) }).click();
  const panel = page.getByTestId('rounds-panel');
  await expect(panel.getByRole('tab', { name: 'Round 2' })).toHaveAttribute('aria-selected', 'true');
  await expect(panel.getByTestId('round-message')).toContainText(`Sample ID: ${firstId}`);
  await expect(panel.getByTestId('round-message')).toContainText('Your earlier predictions');
  await panel.getByRole('tab', { name: 'Round 1' }).click();
  await expect(panel.getByTestId('round-message')).toContainText('This is round 1 of 3');
  await expect(panel.getByTestId('round-answer')).toContainText('"predictions"');
  await expect(panel).toContainText('scripted'); // the model's reasoning
  await screenshot(page, 'round-conversation');
  await panel.getByRole('button', { name: 'Close' }).click();
  await expect(panel).toBeHidden();

  // Compare, one click from the task list; run the baseline on the same test set from there.
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  await page.getByRole('link', { name: `Compare Fake LLM for comparison (#${taskId}) with other runs` }).click();
  await expect(page).toHaveURL(new RegExp(`/compare\\?ids=${taskId}$`));
  await expect(page.getByText('Choose at least two tasks to compare.')).toBeVisible();
  await page.getByRole('button', { name: 'Run the baseline on this test set' }).click();
  await expect(page).toHaveURL(new RegExp(`/compare\\?ids=${taskId}%2C\\d+$`));
  const baselineId = Number(new URL(page.url()).searchParams.get('ids')?.split(',')[1]);
  const table = page.getByTestId('compare-table');
  await expect(table.getByTestId(`compare-task-${taskId}`)).toContainText('fake-model');
  await expect(table.getByTestId(`compare-task-${baselineId}`)).toContainText('baseline');
  await expect(table.getByTestId(`compare-task-${baselineId}`)).toContainText('completed', { timeout: 30_000 });
  await expect(table.getByRole('rowheader', { name: 'UTS(MPa): MAE round 1 → final' })).toBeVisible();
  // The baseline has intervals, the LLM run none: coverage for one, a dash for the other.
  const coverage = table.getByRole('row', { name: /^UTS\(MPa\): 90 % interval coverage/ });
  await expect(coverage.getByRole('cell').nth(1)).toHaveText(/^\d+\.\d%$/);
  await expect(coverage.getByRole('cell').nth(0)).toHaveText('–');
  await screenshot(page, 'compare');
  const docs = resolve(REPO_ROOT, 'docs/screenshots');
  mkdirSync(docs, { recursive: true });
  await page.screenshot({ path: join(docs, 'compare.png'), fullPage: true });

  // The export a script would fetch.
  const csv = await request.get(`${baseUrl}/api/results/${taskId}/export?format=csv&layout=rounds`);
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-disposition']).toBe(`attachment; filename="task-${taskId}-rounds.csv"`);
  const lines = (await csv.text()).trim().split(/\r?\n/);
  expect(lines[0]).toBe(`sample_index,sample_id,iteration,${TARGETS.join(',')}`);
  expect(lines).toHaveLength(1 + 5 * 2); // five samples, converged at round 2
  const json = await request.get(`${baseUrl}/api/results/${baselineId}/export?format=json`);
  const body = await json.json();
  expect(body.rows).toHaveLength(5);
  expect(Object.keys(body.rows[0])).toContain('UTS(MPa)_upper');
});
