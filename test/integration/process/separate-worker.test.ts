// The README's production recipe, command for command: `npm run chain`, the gateway on Postgres and
// Redis (no in-process worker), and a separate `npm run worker` with its own WORKER_ID.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningProcess, startEntry } from '../../helpers/child-process.js';
import { REDIS_URL } from '../../helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-database.js';

let testDb: TestDatabase;
const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-stack-'));
const procs: RunningProcess[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  for (const p of procs.reverse()) {
    p.child.kill('SIGTERM');
    await p.exited(30_000).catch(() => p.child.kill('SIGKILL'));
  }
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('serves a job through npm run chain + the gateway + a separate worker, as the README runs them', async () => {
  const token = `op_${randomBytes(24).toString('hex')}`;
  const chain = startEntry('src/chain.ts', { CHAIN_PORT: '0', POSTHUMAN_DATA_DIR: dataDir });
  procs.push(chain);
  const [, rpcUrl] = await chain.waitFor(/CHAIN_RPC_URL=(http:\/\/\S+)/, 60_000);
  const env = {
    DATABASE_URL: testDb.url,
    REDIS_URL,
    REDIS_PREFIX: `test-stack-${randomBytes(4).toString('hex')}`,
    POSTHUMAN_DATA_DIR: dataDir,
    CHAIN_RPC_URL: rpcUrl,
    POSTHUMAN_OPERATOR_TOKEN: token,
  };
  const gateway = startEntry('src/server.ts', { ...env, PORT: '0' });
  procs.push(gateway);
  const [, url] = await gateway.waitFor(/listening on (http:\/\/\S+)/, 90_000);
  expect(gateway.output()).toContain('worker:     separate (npm run worker)');
  const worker = startEntry('src/worker.ts', { ...env, WORKER_ID: 'worker-1' });
  procs.push(worker);
  const [ready] = await worker.waitFor(/Posthuman worker worker-1 ready[^\n]*/, 90_000);
  // It says which database, Redis and chain it took, with no password in sight.
  expect(ready).toContain(testDb.url.replace(/^postgres(ql)?:\/\/[^@]*@/, '').split('?')[0]);
  expect(ready).toContain(env.REDIS_PREFIX);
  expect(ready).toContain(rpcUrl);
  // It runs from an empty folder: no relative path reaches the data dir.
  const cwd = readlinkSync(`/proc/${worker.child.pid}/cwd`);
  expect(cwd).not.toBe(process.cwd());
  expect(readdirSync(cwd)).toEqual([]);

  const op = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown, headers: Record<string, string> = op) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const account = (await post('/v1/admin/accounts', { name: 'stack' })).body.id as string;
  await post(`/v1/admin/accounts/${account}/credits`, { amount: 1_000_000, reason: 'recipe' });
  const key = (await post(`/v1/admin/accounts/${account}/keys`, { scopes: ['infer'] })).body.key as string;
  const job = await post('/v1/infer', { model: 'tiny-gpt2', input: 'separate', parameters: { max_new_tokens: 2 } }, { authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  expect(job.status, JSON.stringify(job.body)).toBe(200);
  expect(job.body).toMatchObject({ status: 'succeeded', order: { chain_id: 8996 } });
  // The receipt names the worker that ran it.
  const jws = (job.body.receipt as { jws: string }).jws;
  const payload = JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8')) as { worker: { id: string } };
  expect(payload.worker.id).toBe('worker-1');
}, 300_000);
