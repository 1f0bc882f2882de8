/**
 * Measurement, not part of the default run (E2E_PERF=1 enables it; `npm run e2e:perf`):
 * a finished 2 000-sample × 10-round baseline task, time to first render of its page
 * (table rows, trend chart and heatmap drawn) in headless Chromium, and table scrolling.
 */
import { writeFileSync } from 'node:fs';
import { syntheticTest, TARGETS } from './data';
import { expect, test, waitForTaskEnd } from './fixtures';

const SAMPLES = Number(process.env.E2E_PERF_SAMPLES ?? 2000);

test.setTimeout(30 * 60_000);

test(`task page of a finished ${SAMPLES}-sample × 10-round task renders fast`, async ({ page, baseUrl, request }) => {
  const data = syntheticTest(SAMPLES);
  const upload = async (name: string, text: string) => {
    const response = await request.post(`${baseUrl}/api/datasets`, { multipart: { file: { name, mimeType: 'text/csv', buffer: Buffer.from(text) } } });
    expect(response.status()).toBe(201);
    return ((await response.json()) as { path: string }).path;
  };
  const started = await request.post(`${baseUrl}/api/iterative-prediction/start`, {
    data: {
      task_name: `large ${SAMPLES} x 10`,
      test_file_path: await upload('large_test.csv', data.test),
      reference_file_path: await upload('large_reference.csv', data.reference),
      target_properties: [...TARGETS],
      llm_provider: 'baseline',
      llm_model: 'knn',
      temperature: 0,
      enable_iteration: true,
      max_iterations: 10,
      convergence_threshold: 0.01,
      early_stop: false,
      max_workers: 20,
    },
  });
  expect(started.status(), await started.text()).toBe(200);
  const taskId = ((await started.json()) as { task_id: number }).task_id;
  const runStart = Date.now();
  for (;;) {
    const task = (await (await request.get(`${baseUrl}/api/tasks/${taskId}`)).json()) as { status: string };
    if (['completed', 'failed', 'cancelled'].includes(task.status)) break;
    await page.waitForTimeout(2000);
  }
  const runSeconds = (Date.now() - runStart) / 1000;

  const historyStart = Date.now();
  const history = await request.get(`${baseUrl}/api/results/${taskId}/iterations`);
  expect(history.status()).toBe(200);
  const historyMs = Date.now() - historyStart;
  const historyBytes = (await history.body()).length;

  /** ms from navigation start until table rows, trend chart and heatmap are on screen (checked every frame). */
  const measure = async () => {
    await page.goto(`${baseUrl}/tasks/${taskId}`);
    const handle = await page.waitForFunction(
      () => {
        const rows = document.querySelectorAll('[data-testid="samples-table"] [role="row"]').length;
        const trend = document.querySelector('[data-testid="trend-chart"] canvas');
        const heat = document.querySelector('[data-testid="heatmap-chart"] canvas');
        return rows > 5 && trend && heat ? performance.now() : false;
      },
      undefined,
      { polling: 'raf', timeout: 60_000 },
    );
    const ready = (await handle.jsonValue()) as number;
    const api = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/api/'))
        .map((e) => `${new URL(e.name).pathname} ${Math.round(e.startTime)}→${Math.round((e as PerformanceResourceTiming).responseEnd)} ms`),
    );
    console.log(api.join('\n'));
    return ready;
  };
  if (process.env.E2E_PERF_PROFILE) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
    await measure();
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[] } };
    const self = new Map<string, number>();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const f = byId.get(id)?.callFrame;
      const key = `${f?.functionName || '(anon)'} ${f?.url.split('/').pop()}:${f?.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
    console.log([...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${v.toFixed(0)} ms ${k}`).join('\n'));
  }
  const cold = await measure();
  const warm = await measure();
  await waitForTaskEnd(page);

  // Scroll the virtualized table end to end and record frame times.
  const frames = await page.evaluate(async () => {
    const body = document.querySelector<HTMLElement>('.vtable__body');
    if (!body) return [];
    const times: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      body.scrollTop = ((i + 1) / 120) * (body.scrollHeight - body.clientHeight);
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times;
  });
  frames.sort((a, b) => a - b);
  const p95 = frames[Math.floor(frames.length * 0.95)] ?? 0;
  const report = {
    samples: SAMPLES,
    rounds: 10,
    baseline_run_seconds: runSeconds,
    history_request_ms: historyMs,
    history_bytes: historyBytes,
    first_render_ms_cold: Math.round(cold),
    first_render_ms_warm: Math.round(warm),
    table_scroll_frame_ms_median: Number((frames[Math.floor(frames.length / 2)] ?? 0).toFixed(1)),
    table_scroll_frame_ms_p95: Number(p95.toFixed(1)),
  };
  console.log(JSON.stringify(report, null, 2));
  writeFileSync(`${process.env.E2E_ARTIFACTS ?? 'e2e/artifacts'}/large-task-render.json`, JSON.stringify(report, null, 2));
  await page.screenshot({ path: `${process.env.E2E_ARTIFACTS ?? 'e2e/artifacts'}/large-task.png`, fullPage: true });
});
