// The dashboard as a user sees it, in headless Chromium (Debian's, via the frontend's Playwright):
// log in, find the task in the list, open it, and take a screenshot.
//   node tests/stack/dashboard.mjs BASE_URL USERNAME PASSWORD TASK_ID TASK_NAME SCREENSHOT
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '../../frontend/package.json');
const { chromium } = createRequire(frontend)('@playwright/test');
const [base, username, password, taskId, taskName, screenshot] = process.argv.slice(2);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium' });
try {
  const page = await browser.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/tasks/);
  await page.getByText(taskName).first().waitFor({ timeout: 30000 });
  await page.goto(`${base}/tasks/${taskId}`);
  await page.getByText(taskName).first().waitFor({ timeout: 30000 });
  await page.getByText(/completed/i).first().waitFor({ timeout: 30000 });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`dashboard: task ${taskId} "${taskName}" shown as completed`);
} finally {
  await browser.close();
}
