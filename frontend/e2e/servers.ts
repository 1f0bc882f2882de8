/** Start and stop the backend (and the scripted fake LLM) as child processes for the e2e run. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './data';

export const FRONTEND_OUT = resolve(REPO_ROOT, 'frontend/out');
export const ARTIFACTS = resolve(REPO_ROOT, 'frontend/e2e/artifacts');
export const PYTHON = resolve(REPO_ROOT, '.venv/bin/python');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface Started {
  process: ChildProcess;
  url: string;
  logFile: string;
}

export function startProcess(command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): ChildProcess {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

/** Poll `url` until it answers 200, the process dies, or the deadline passes. */
export async function waitForOk(url: string, child: ChildProcess, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before answering ${url}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer 200 at ${url} within ${timeoutMs / 1000} s (last: ${last})`);
}

/** Stop a child started with `detached: true` (its own process group): SIGTERM, then SIGKILL. */
export async function stopProcess(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.pid == null) return;
  const pid = child.pid;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function requireFile(path: string, hint: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`);
}

/** Stop the embedded PostgreSQL of `dataDir` (it outlives the API process by design). */
export async function stopEmbeddedPostgres(dataDir: string): Promise<void> {
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

export interface Backend {
  url: string;
  dataDir: string;
  process: ChildProcess;
  /** Stop the API, then its embedded PostgreSQL, then delete the data dir (unless E2E_KEEP_DATA). */
  stop: () => Promise<void>;
}

/**
 * The real backend (uvicorn) on a fresh, empty data dir: it starts its own embedded PostgreSQL,
 * migrates, and serves the built dashboard. `env` adds to (or, with undefined, removes from) the
 * test defaults, e.g. ENVIRONMENT=production and the first admin.
 */
export async function startBackend(opts: { env?: NodeJS.ProcessEnv; logFile: string; dataDirPrefix?: string }): Promise<Backend> {
  const dataDir = mkdtempSync(join(tmpdir(), opts.dataDirPrefix ?? 'dashboard-e2e-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    FRONTEND_DIR: FRONTEND_OUT,
    LITELLM_LOCAL_MODEL_COST_MAP: 'True',
    RETRY_MAX_ATTEMPTS: '3',
    RETRY_BACKOFF_FACTOR: '0.01',
    LLM_TIMEOUT_SECONDS: '5',
    LOG_LEVEL: 'WARNING',
    ...opts.env,
  };
  for (const key of ['DATABASE_URL', 'OPENAI_API_KEY', 'GEMINI_API_KEY']) delete env[key];
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const child = startProcess(resolve(REPO_ROOT, '.venv/bin/uvicorn'), ['backend.main:app', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: REPO_ROOT,
    env,
    logFile: opts.logFile,
  });
  const stop = async () => {
    await stopProcess(child);
    await stopEmbeddedPostgres(dataDir);
    if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/api/health`, child, 90_000, 'backend');
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, dataDir, process: child, stop };
}
