/** Shared test fixtures: the backend's URL, and a guard that fails a test on any console error. */
import { test as base, expect } from '@playwright/test';
import type { Page } from '@playwright/test';

interface Fixtures {
  baseUrl: string;
  /** Console errors that this test expects (e.g. the 4xx of a deliberately invalid request). */
  allowConsoleError: (pattern: RegExp) => void;
}

export const test = base.extend<Fixtures>({
  baseUrl: async ({}, use) => {
    const url = process.env.E2E_BASE_URL;
    if (!url) throw new Error('E2E_BASE_URL is not set: run through `npm run e2e` (global-setup starts the backend)');
    await use(url);
  },
  allowConsoleError: [
    async ({ page }, use) => {
      const allowed: RegExp[] = [];
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`${msg.text()} (${msg.location().url})`);
      });
      page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
      await use((pattern) => allowed.push(pattern));
      const unexpected = errors.filter((e) => !allowed.some((p) => p.test(e)));
      expect(unexpected, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.E2E_ARTIFACTS ?? 'e2e/artifacts';
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}

/** Wait until the task page shows a terminal status. */
export async function waitForTaskEnd(page: Page, timeoutMs = 90_000): Promise<string> {
  const badge = page.getByTestId('task-status');
  await expect(badge).toHaveText(/^(completed|failed|cancelled)$/, { timeout: timeoutMs });
  return (await badge.textContent()) ?? '';
}
