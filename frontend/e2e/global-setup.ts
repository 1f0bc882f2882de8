/**
 * Start the real backend on a fresh, empty data directory (it starts its own embedded PostgreSQL
 * and migrates), serving the built dashboard; plus the scripted fake OpenAI-compatible server
 * when the repository has one. Everything is stopped by the returned teardown.
 * This backend runs with accounts off (ENVIRONMENT=development); auth.spec.ts starts its own.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './data';
import { ARTIFACTS, FRONTEND_OUT, freePort, PYTHON, requireFile, startBackend, startProcess, stopProcess, waitForOk } from './servers';
import type { Backend } from './servers';
import type { ChildProcess } from 'node:child_process';


export default async function globalSetup(): Promise<() => Promise<void>> {
  requireFile(join(FRONTEND_OUT, 'index.html'), 'run `npm run build` before `npm run e2e`');
  requireFile(PYTHON, 'the backend virtualenv is needed (`make install`)');
  mkdirSync(ARTIFACTS, { recursive: true });
  const children: ChildProcess[] = [];
  let backend: Backend | undefined;
  const teardown = async () => {
    // The backend's stop also stops its embedded PostgreSQL before deleting its data dir.
    await backend?.stop();
    for (const child of children.reverse()) await stopProcess(child);
  };

  // If the runner dies without calling teardown, do not leave servers behind.
  process.once('exit', () => {
    const all = backend ? [...children, backend.process] : children;
    for (const child of all) if (child.pid && child.exitCode === null) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  });

  try {
    // The scripted OpenAI-compatible server of the Python tests (devstack/fakellm.py).
    const port = await freePort();
    const fake = startProcess(PYTHON, ['-m', 'devstack.fakellm', '--port', String(port)], {
      cwd: REPO_ROOT,
      env: { ...process.env },
      logFile: join(ARTIFACTS, 'fake-llm.log'),
    });
    children.push(fake);
    const fakeUrl = `http://127.0.0.1:${port}`;
    await waitForOk(`${fakeUrl}/_calls`, fake, 30_000, 'fake LLM server');

    backend = await startBackend({
      env: { ENVIRONMENT: 'development', AUTH_REQUIRED: undefined, LLM_API_BASE: `${fakeUrl}/v1` },
      logFile: join(ARTIFACTS, 'backend.log'),
    });

    process.env.E2E_BASE_URL = backend.url;
    process.env.E2E_FAKE_LLM_URL = fakeUrl;
    process.env.E2E_ARTIFACTS = ARTIFACTS;
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
