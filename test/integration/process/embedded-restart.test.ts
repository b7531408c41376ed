// The embedded default restarted twice on one data dir: every receipt issued before a restart still
// passes all five checks of `posthuman verify`, and new jobs never collide with an earlier order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type RunningProcess, startEntry } from '../../helpers/child-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

type Job = { id: string; status: string; error: unknown; order: { tx_hash: string }; receipt: { id: string; jws: string } };

interface Started {
  proc: RunningProcess;
  url: string;
  rpcUrl: string;
}

async function start(): Promise<Started> {
  const proc = startEntry('src/server.ts', { PORT: '0', CHAIN_PORT: '0', POSTHUMAN_DATA_DIR: dataDir, ANCHOR_INTERVAL_MS: '0' });
  const [, rpcUrl] = await proc.waitFor(/CHAIN_RPC_URL=(http:\/\/\S+) \(embedded/, 60_000);
  const [, url] = await proc.waitFor(/listening on (http:\/\/\S+)/, 60_000);
  return { proc, url, rpcUrl };
}

async function stop(s: Started) {
  s.proc.child.kill('SIGTERM');
  expect(await s.proc.exited()).toBe(0);
}

async function call(url: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function infer(s: Started, key: string, input: string): Promise<Job> {
  const res = await call(s.url, '/v1/infer', key, { model: 'tiny-gpt2', input, parameters: { max_new_tokens: 2 } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const job = res.body as unknown as Job;
  expect(job.error).toBeNull();
  expect(job.status).toBe('succeeded');
  return job;
}

/** `posthuman verify` as a stranger runs it: the receipt file, the gateway and the chain's RPC. */
async function verify(s: Started, job: Job): Promise<string> {
  const file = join(dataDir, `receipt-${job.id}.json`);
  writeFileSync(file, JSON.stringify(job));
  const cli = startEntry('src/cli.ts', {}, ['verify', file, '--gateway', s.url, '--rpc', s.rpcUrl]);
  const code = await cli.exited(60_000);
  expect(code, cli.output()).toBe(0);
  return cli.output();
}

it('keeps orders, receipts and anchors across two restarts of npm start', async () => {
  const first = await start();
  const [, operator] = await first.proc.waitFor(/operator token \(generated[^\n]*\n\s+(\S+)/);
  const account = await call(first.url, '/v1/admin/accounts', operator, { name: 'restart' });
  const accountId = account.body.id as string;
  await call(first.url, `/v1/admin/accounts/${accountId}/credits`, operator, { amount: 5_000_000, reason: 'restart test' });
  const key = (await call(first.url, `/v1/admin/accounts/${accountId}/keys`, operator, { scopes: ['infer'] })).body.key as string;
  const before = await infer(first, key, 'before the first restart');
  expect((await call(first.url, '/v1/admin/log/anchor', operator, {})).status).toBe(200);
  expect(await verify(first, before)).toContain('all 5 checks passed');
  await stop(first);

  const second = await start();
  // No job collides with an order the chain made before the restart.
  const middle = await infer(second, key, 'between the restarts');
  expect(middle.order.tx_hash).not.toBe(before.order.tx_hash);
  expect(await verify(second, before)).toContain('all 5 checks passed');
  expect((await call(second.url, '/v1/admin/log/anchor', operator, {})).status).toBe(200);
  await stop(second);

  const third = await start();
  const after = await infer(third, key, 'after the second restart');
  expect(new Set([before.order.tx_hash, middle.order.tx_hash, after.order.tx_hash]).size).toBe(3);
  for (const job of [before, middle]) expect(await verify(third, job)).toContain('all 5 checks passed');
  await stop(third);
}, 300_000);
