/**
 * Start the real backend on a fresh, empty data directory (it starts its own embedded PostgreSQL
 * and migrates), serving the built dashboard; plus the scripted fake OpenAI-compatible server
 * when the repository has one. Everything is stopped by the returned teardown.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './data';
import { freePort, requireFile, startProcess, stopProcess, waitForOk } from './servers';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

const FRONTEND_OUT = resolve(REPO_ROOT, 'frontend/out');
const ARTIFACTS = resolve(REPO_ROOT, 'frontend/e2e/artifacts');
const FAKE_LLM = resolve(REPO_ROOT, 'tests/fakellm/server.py');
const PYTHON = resolve(REPO_ROOT, '.venv/bin/python');

async function stopEmbeddedPostgres(dataDir: string): Promise<void> {
  if (!existsSync(join(dataDir, 'postgres', 'postmaster.pid'))) return;
  const stopper = spawn(PYTHON, ['-m', 'backend.db.embedded', 'stop'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATA_DIR: dataDir },
    stdio: 'ignore',
  });
  await new Promise<void>((resolveStop) => {
    const timer = setTimeout(() => {
      stopper.kill('SIGKILL');
      resolveStop();
    }, 30_000);
    stopper.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  requireFile(join(FRONTEND_OUT, 'index.html'), 'run `npm run build` before `npm run e2e`');
  requireFile(PYTHON, 'the backend virtualenv is needed (`make install`)');
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'dashboard-e2e-'));
  const children: ChildProcess[] = [];
  const teardown = async () => {
    for (const child of children.reverse()) await stopProcess(child);
    // The embedded PostgreSQL outlives the API process by design: stop it before deleting its data.
    await stopEmbeddedPostgres(dataDir);
    if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
  };

  // If the runner dies without calling teardown, do not leave servers behind.
  process.once('exit', () => {
    for (const child of children) if (child.pid && child.exitCode === null) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  });

  try {
    let fakeUrl = '';
    if (existsSync(FAKE_LLM)) {
      const port = await freePort();
      const fake = startProcess(PYTHON, ['-m', 'tests.fakellm.server', '--port', String(port)], {
        cwd: REPO_ROOT,
        env: { ...process.env },
        logFile: join(ARTIFACTS, 'fake-llm.log'),
      });
      children.push(fake);
      fakeUrl = `http://127.0.0.1:${port}`;
      await waitForOk(`${fakeUrl}/_calls`, fake, 30_000, 'fake LLM server');
    }

    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      FRONTEND_DIR: FRONTEND_OUT,
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      RETRY_MAX_ATTEMPTS: '3',
      RETRY_BACKOFF_FACTOR: '0.01',
      LLM_TIMEOUT_SECONDS: '5',
      CANCEL_POLL_SECONDS: '0.2',
      LOG_LEVEL: 'WARNING',
      ...(fakeUrl ? { LLM_API_BASE: `${fakeUrl}/v1` } : {}),
    };
    delete env.DATABASE_URL;
    delete env.OPENAI_API_KEY;
    delete env.GEMINI_API_KEY;
    const backend = startProcess(resolve(REPO_ROOT, '.venv/bin/uvicorn'), ['backend.main:app', '--host', '127.0.0.1', '--port', String(port)], {
      cwd: REPO_ROOT,
      env,
      logFile: join(ARTIFACTS, 'backend.log'),
    });
    children.push(backend);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForOk(`${baseUrl}/api/health`, backend, 90_000, 'backend');

    process.env.E2E_BASE_URL = baseUrl;
    process.env.E2E_FAKE_LLM_URL = fakeUrl;
    process.env.E2E_ARTIFACTS = ARTIFACTS;
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
