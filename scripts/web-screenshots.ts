// `npm run screenshots`: screenshots of the web app's pages (desktop and a 375 px phone) into
// docs/screenshots/, taken with playwright-core and Debian's chromium from a running gateway.
//   GATEWAY_URL (default http://127.0.0.1:8080)  POSTHUMAN_API_KEY (an account key with infer)
//   POSTHUMAN_OPERATOR_TOKEN (optional: anchors the log so the receipt verifies in full)  CHROMIUM_PATH
import { mkdirSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';

const gateway = (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const apiKey = process.env.POSTHUMAN_API_KEY;
const operatorToken = process.env.POSTHUMAN_OPERATOR_TOKEN;
const out = 'docs/screenshots';
if (!apiKey) throw new Error('set POSTHUMAN_API_KEY to an account key (README: The API by example)');
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  await context.addInitScript({ content: `sessionStorage.setItem('posthuman.apiKey', ${JSON.stringify(apiKey)})` });
  const page = await context.newPage();

  const shoot = async (p: Page, name: string) => {
    await p.screenshot({ path: `${out}/${name}.png`, fullPage: true });
    console.log(`${out}/${name}.png`);
  };

  await page.goto(`${gateway}/#/market`);
  await page.locator('article.card').first().waitFor();
  await shoot(page, 'market-desktop');

  await page.goto(`${gateway}/#/playground`);
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByRole('button', { name: 'Verify in browser' }).waitFor({ timeout: 120_000 });
  if (operatorToken) {
    const res = await fetch(`${gateway}/v1/admin/log/anchor`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    if (!res.ok) throw new Error(`anchoring the log answered ${res.status}: ${await res.text()}`);
  }
  await page.getByRole('button', { name: 'Verify in browser' }).click();
  await page.getByText(/^(Verified|Not verified):/).waitFor({ timeout: 120_000 });
  await page.getByRole('button', { name: /^Evaluate/ }).click();
  await page.locator('table caption', { hasText: 'Loss and perplexity' }).waitFor({ timeout: 120_000 });
  await shoot(page, 'playground-desktop');

  // Every list of the account page in: the ledger, the keys and the chart of the jobs just run.
  const accountReady = async () => {
    await page.getByTestId('balance').filter({ hasText: 'cr' }).waitFor();
    for (const selector of ['table tbody tr', 'tr[data-key-id]', 'rect.bar:not([height="0"])']) await page.locator(selector).first().waitFor();
  };
  await page.goto(`${gateway}/#/account`);
  await accountReady();
  await shoot(page, 'account-desktop');

  await page.setViewportSize({ width: 375, height: 812 });
  // Each page once its content is in (a hash change alone loads nothing).
  const ready: Record<string, () => Promise<void>> = {
    market: () => page.locator('article.card').first().waitFor(),
    playground: () => page.locator('#infer-model').waitFor(),
    account: accountReady,
  };
  for (const [name, isReady] of Object.entries(ready)) {
    await page.goto(`${gateway}/#/${name}`);
    await page.reload();
    await isReady();
    await shoot(page, `${name}-phone`);
  }
} finally {
  await browser.close();
}
