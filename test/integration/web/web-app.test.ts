// The web app in a real browser (playwright-core driving Debian's chromium) against a served gateway,
// a worker process, Postgres, Redis and a local chain: browse the market, sign in, see an API error,
// stream an inference, verify its receipt in the browser, evaluate texts, see the usage in the market, fine-tune, create and revoke a key.
import { existsSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBytes, Wallet } from 'ethers';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerModel } from '../../../src/models/model-registration.js';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import type { RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { startWorker, stopWorker } from '../../helpers/worker-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
const EXPLORER = 'https://explorer.example/{kind}/{value}';

const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-web-'));
let t: TestApp;
let ocean: EmbeddedOcean;
let worker: RunningProcess | undefined;
let browser: Browser;
let page: Page;
let base: string;
let account: Awaited<ReturnType<typeof createFundedAccount>>;
let nftAddress: string;
const pageErrors: string[] = [];
// The browser's wallet: an EIP-1193 stub in the page whose signatures come from this key in the test.
const wallet = Wallet.createRandom();
const dialogs: string[] = [];

beforeAll(async () => {
  if (!existsSync('web/dist/index.html')) throw new Error('the web app is not built: npm run build:web (npm ci builds it)');
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  t = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', ANCHOR_INTERVAL_MS: '0', EXPLORER_URL_PATTERN: EXPLORER }, undefined, {
    mode: 'embedded',
    config: ocean.config,
    stop: () => ocean.stop(),
  });
  const model = await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t));
  nftAddress = model.nftAddress!;
  await registerModel(t.app.db, t.config.dataDir, { id: 'hostile', name: HOSTILE_NAME, sourceDir: inject('tinyModelDir'), pricePerJob: 1n, pricePer1kTokens: 1n });
  worker = await startWorker(t, { CHAIN: 'on', CHAIN_RPC_URL: ocean.chain.rpcUrl, WORKER_ID: 'web-worker' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  account = await createFundedAccount(t, { name: 'Web tester', credits: 5_000_000, scopes: ['infer', 'evaluate', 'finetune', 'keys'] });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.exposeFunction('__walletSign', (hex: string) => wallet.signMessage(getBytes(hex)));
  await page.addInitScript({
    content: `window.ethereum = { request: async ({ method, params }) => {
      if (method === 'eth_requestAccounts') return [${JSON.stringify(wallet.address)}];
      if (method === 'personal_sign') return window.__walletSign(params[0]);
      throw new Error('unsupported ' + method);
    } };`,
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stopWorker(worker);
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
  await ocean?.stop();
});

describe('the gateway serves the app', () => {
  it('answers / and its assets with their types, cache rules and a strict CSP, beside the API', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain(`connect-src 'self' ${new URL(ocean.chain.rpcUrl).origin}`);
    const html = await index.text();
    // No inline script: every <script> names a file.
    expect(html.match(/<script\b[^>]*>/g)?.every((tag) => /\ssrc="\/assets\//.test(tag))).toBe(true);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const asset = await fetch(`${base}${script}`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/app-config.json`)).headers.get('content-type')).toContain('application/json');
    expect(await (await fetch(`${base}/app-config.json`)).json()).toEqual({ explorer_url_pattern: EXPLORER, chain_rpc_url: ocean.chain.rpcUrl });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/docs/`)).status).toBe(200);
    expect((await fetch(`${base}/v1/models`)).status).toBe(200);
    const missing = await fetch(`${base}/assets/nothing.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('in a browser', () => {
  it('shows the market with on-chain facts linked to the explorer, and a hostile model name as text', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1, name: 'Market' }).waitFor();
    const card = page.locator('article', { has: page.getByRole('heading', { name: 'tiny-gpt2' }) });
    await card.waitFor();
    await expect(card.getByText(/^did:op:/).textContent()).resolves.toMatch(/^did:op:[0-9a-f]{64}$/);
    expect(await card.locator(`a[href="https://explorer.example/token/${nftAddress}"]`).count()).toBe(1);
    const hostile = page.getByRole('heading', { name: HOSTILE_NAME, exact: true });
    expect(await hostile.textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('main img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it("shows the API's problem detail for a wrong key, then signs in with the right one", async () => {
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByLabel('API key').fill('ph_wrongwrong_000000000000000000000000');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const expected = (await t.app.inject({ method: 'GET', url: '/v1/account', headers: { authorization: 'Bearer ph_wrongwrong_000000000000000000000000' } })).json();
    expect(expected.detail).toBeTruthy();
    await expect(page.getByRole('alert').textContent()).resolves.toContain(expected.detail);

    await page.getByLabel('API key').fill(account.key.key);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByTestId('balance').filter({ hasText: '5 cr' }).textContent({ timeout: 30_000 })).resolves.toBe('5 cr');
  });

  it('streams an inference without moving the page, then verifies its receipt in the browser', async () => {
    await page.getByRole('link', { name: 'Playground' }).click();
    await page.locator('#infer-model').selectOption('tiny-gpt2');
    await page.getByLabel('Prompt').first().fill('The gateway');
    await page.getByLabel('Tokens to generate at most').fill('8');
    const totalsBefore = await page.locator('dl.totals').first().boundingBox();
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    // The cost appears when the job is done (or an error instead, which fails here with its text).
    await page.locator('[data-testid="cost"]:has-text("cr"), main [role="alert"]').first().waitFor({ timeout: 60_000 });
    expect(await page.locator('main [role="alert"]').allTextContents()).toEqual([]);
    expect(await page.locator('output.stream').textContent()).toMatch(/^The gateway.+/s);
    expect(await page.getByTestId('usage').textContent()).toMatch(/^\d+ \/ 8$/);
    expect(await page.locator('dl.totals').first().boundingBox()).toEqual(totalsBefore);

    await page.getByRole('button', { name: 'Verify in browser' }).waitFor({ timeout: 90_000 });
    const anchored = await t.app.inject({ method: 'POST', url: '/v1/admin/log/anchor', headers: t.operatorHeaders, payload: {} });
    expect(anchored.statusCode, anchored.body).toBe(200);
    await page.getByRole('button', { name: 'Verify in browser' }).click();
    const verdict = page.getByText(/^(Verified|Not verified):/);
    await verdict.waitFor({ timeout: 60_000 });
    const checks = await page.locator('ul.checks li').allTextContents();
    expect(checks.length, checks.join('\n')).toBe(5);
    expect(await verdict.textContent(), checks.join('\n')).toBe('Verified: all 5 checks passed.');
    expect(await page.locator('ul.checks li.pass').evaluateAll((els) => els.map((e) => e.getAttribute('data-check')))).toEqual([
      'signature',
      'attestation',
      'weights',
      'order',
      'inclusion',
    ]);
  });

  it("evaluates the default texts, showing per text the loss and perplexity the API gives for them", async () => {
    const section = page.locator('section[aria-labelledby="evaluate-heading"]');
    await section.locator('#evaluate-model').selectOption('tiny-gpt2');
    const texts = (await section.getByLabel(/^Texts/).inputValue()).split(/\n\s*\n/).map((text) => text.trim());
    expect(texts).toHaveLength(2);
    await section.getByRole('button', { name: 'Evaluate 2 texts' }).click();
    await section.locator('table caption, [role="alert"]').first().waitFor({ timeout: 60_000 });
    expect(await section.locator('[role="alert"]').allTextContents()).toEqual([]);
    const api = await t.app.inject({ method: 'POST', url: '/v1/evaluate', headers: account.headers, payload: { model: 'tiny-gpt2', texts } });
    expect(api.statusCode, api.body).toBe(200);
    const results = (api.json() as { results: { tokens: number; loss: number; perplexity: number }[] }).results;
    const rows = await section.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toEqual(results.map((r, i) => [texts[i], String(r.tokens), r.loss.toFixed(3), r.perplexity.toFixed(1)]));
  });

  it("shows each model's usage in the market, counting the jobs just run", async () => {
    const usage = (await t.app.inject({ method: 'GET', url: '/v1/models/tiny-gpt2' })).json().usage as { jobs: number; tokens: number };
    // The streamed inference and the two evaluations above.
    expect(usage.jobs).toBeGreaterThanOrEqual(3);
    await page.getByRole('link', { name: 'Market', exact: true }).click();
    const card = page.locator('article', { has: page.getByRole('heading', { name: 'tiny-gpt2' }) });
    const shown = card.locator(`dd[data-usage-jobs="${usage.jobs}"]`);
    await shown.waitFor({ timeout: 30_000 });
    expect(await shown.textContent()).toContain(`${usage.jobs} jobs, ${usage.tokens.toLocaleString('en')} tokens`);
  });

  it('fine-tunes from the form, drawing the loss of each step as it arrives', async () => {
    await page.getByRole('link', { name: 'Playground', exact: true }).click();
    const section = page.locator('section[aria-labelledby="finetune-heading"]');
    await section.locator('#finetune-model').selectOption('tiny-gpt2');
    await section.getByLabel('New model id').fill('browser-tuned');
    await section.getByLabel('Training text').fill('The lighthouse keeper counts the ships that pass the cape every evening. '.repeat(40));
    await section.getByRole('button', { name: 'Fine-tune', exact: true }).click();
    await section.locator('figcaption, [role="alert"]').first().waitFor({ timeout: 60_000 });
    expect(await section.locator('[role="alert"]').allTextContents()).toEqual([]);
    const label = (await section.getByRole('img').getAttribute('aria-label')) ?? '';
    const losses = label.replace(/^[^:]*: /, '').split(', ').map(Number);
    expect(losses.length).toBeGreaterThanOrEqual(1);
    expect(losses.every((loss) => Number.isFinite(loss) && loss > 0), label).toBe(true);
    const status = section.getByRole('status');
    await status.filter({ hasText: /: (succeeded|failed|cancelled)/ }).waitFor({ timeout: 120_000 });
    const id = await status.locator('code').textContent();
    const job = (await t.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: account.headers })).json();
    expect(job).toMatchObject({ kind: 'finetune', status: 'succeeded' });
    expect(await status.textContent()).toContain(': succeeded');
  });

  it('creates a key, shown once, that works; then revokes it', async () => {
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByLabel('Name of a new key').fill('browser-made');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key').textContent({ timeout: 30_000 }))!.trim();
    expect(secret).toMatch(/^ph_/);
    const headers = { authorization: `Bearer ${secret}` };
    expect((await t.app.inject({ method: 'GET', url: '/v1/account', headers })).statusCode).toBe(200);

    await page.getByRole('button', { name: 'Revoke key browser-made' }).click();
    await page.getByRole('row', { name: /browser-made/ }).getByText(/^revoked /).waitFor({ timeout: 30_000 });
    expect((await t.app.inject({ method: 'GET', url: '/v1/account', headers })).statusCode).toBe(401);
  });

  it('signs in with a wallet (SIWE): a new account bound to the address', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with wallet' }).click();
    await page.getByTestId('balance').filter({ hasText: 'cr' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('balance').textContent()).toBe('0 cr');
    const token = await page.evaluate("sessionStorage.getItem('posthuman.apiKey')");
    const me = await t.app.inject({ method: 'GET', url: '/v1/account', headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().id).not.toBe(account.account.id);
    expect(await page.getByRole('heading', { level: 2, name: me.json().name }).count()).toBe(1);
  });

  it('raised no script error and no CSP violation on the way', () => {
    expect(pageErrors.filter((e) => !/Failed to load resource: the server responded with a status of 401/.test(e))).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
