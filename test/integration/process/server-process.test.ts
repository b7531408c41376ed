// Starts the real gateway process: configuration errors, the embedded default, graceful shutdown.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startEntry } from '../../helpers/child-process.js';
import { eventually } from '../../helpers/worker-process.js';
import { REDIS_URL } from '../../helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-database.js';

let testDb: TestDatabase;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'posthuman-proc-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('gateway process', () => {
  it('refuses to start on a bad variable, naming it, and exits non-zero', async () => {
    const proc = startEntry('src/server.ts', { PORT: 'eighty', POSTHUMAN_DATA_DIR: tempDir() });
    expect(await proc.exited()).toBe(1);
    expect(proc.output()).toContain('configuration error: PORT');
  });

  it('runs on Postgres and Redis, serves requests and exits 0 on SIGTERM', async () => {
    const token = 'a-configured-operator-token-of-enough-length';
    const proc = startEntry('src/server.ts', {
      PORT: '0',
      CHAIN: 'off',
      DATABASE_URL: testDb.url,
      REDIS_URL,
      REDIS_PREFIX: 'test-proc',
      POSTHUMAN_OPERATOR_TOKEN: token,
      POSTHUMAN_DATA_DIR: tempDir(),
    });
    const [, url] = await proc.waitFor(/listening on (http:\/\/\S+)/);
    const ready = await fetch(`${url}/readyz`);
    expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok', redis: 'ok' } });
    const created = await fetch(`${url}/v1/admin/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'proc' }),
    });
    expect(created.status).toBe(201);
    proc.child.kill('SIGTERM');
    expect(await proc.exited()).toBe(0);
    expect(proc.output()).not.toContain(token);
    const logLines = proc.output().split('\n').filter((l) => l.startsWith('{'));
    const requestLog = logLines.map((l) => JSON.parse(l)).find((l) => l.req?.url === '/v1/admin/accounts');
    expect(requestLog?.reqId).toBeTruthy();
  });

  it('drains an in-flight job request on SIGTERM before exiting', async () => {
    const token = 'a-configured-operator-token-of-enough-length';
    const dataDir = tempDir();
    const proc = startEntry('src/server.ts', {
      PORT: '0',
      CHAIN: 'off',
      DATABASE_URL: testDb.url,
      REDIS_URL,
      REDIS_PREFIX: `test-drain-${Date.now()}`,
      WORKER_IN_PROCESS: 'true',
      POSTHUMAN_FAULT_START_DELAY_MS: '1500',
      POSTHUMAN_OPERATOR_TOKEN: token,
      POSTHUMAN_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    });
    const [, url] = await proc.waitFor(/listening on (http:\/\/\S+)/);
    const op = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const { id } = (await (await fetch(`${url}/v1/admin/accounts`, { method: 'POST', headers: op, body: '{"name":"drain"}' })).json()) as {
      id: string;
    };
    await fetch(`${url}/v1/admin/accounts/${id}/credits`, { method: 'POST', headers: op, body: '{"amount":1000000,"reason":"t"}' });
    const { key } = (await (await fetch(`${url}/v1/admin/accounts/${id}/keys`, { method: 'POST', headers: op, body: '{}' })).json()) as {
      key: string;
    };
    const inFlight = fetch(`${url}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-gpt2', input: 'finish me', parameters: { max_new_tokens: 2 } }),
    });
    // The job is claimed (the worker now waits 1.5 s before running it): stop the process mid-request.
    await eventually(async () => {
      const r = (await testDb.database.db.execute(sql`SELECT count(*)::int AS n FROM jobs WHERE status = 'running'`)) as unknown as {
        rows: { n: number }[];
      };
      return r.rows[0].n === 1;
    });
    proc.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { status: string }).status).toBe('succeeded');
    const code = await proc.exited();
    expect(code, proc.output().split('\n').filter((l) => !l.includes('"level":30')).join('\n')).toBe(0);
  });

  it('embedded default: PGlite in the data dir, operator token generated and printed once', async () => {
    const dataDir = tempDir();
    const first = startEntry('src/server.ts', { PORT: '0', CHAIN_PORT: '0', POSTHUMAN_DATA_DIR: dataDir });
    const [, rpcUrl] = await first.waitFor(/CHAIN_RPC_URL=(http:\/\/\S+) \(embedded, chain id 8996\); 1 model/, 120_000);
    const [, url] = await first.waitFor(/listening on (http:\/\/\S+)/);
    const [, printed] = await first.waitFor(/operator token \(generated[^\n]*\n\s+(\S+)/);
    expect(readFileSync(join(dataDir, 'operator-token'), 'utf8').trim()).toBe(printed);
    const created = await fetch(`${url}/v1/admin/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${printed}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'embedded' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const op = { authorization: `Bearer ${printed}`, 'content-type': 'application/json' };
    const grant = await fetch(`${url}/v1/admin/accounts/${id}/credits`, {
      method: 'POST',
      headers: op,
      body: JSON.stringify({ amount: 1_000_000, reason: 'embedded' }),
    });
    expect(grant.status).toBe(201);
    const { key } = (await (await fetch(`${url}/v1/admin/accounts/${id}/keys`, { method: 'POST', headers: op, body: '{}' })).json()) as {
      key: string;
    };
    // The in-process worker runs the bundled tiny model on the embedded database.
    const infer = await fetch(`${url}/v1/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-gpt2', input: 'embedded', parameters: { max_new_tokens: 3 } }),
    });
    expect(infer.status).toBe(200);
    const job = (await infer.json()) as { status: string; cost: number; usage: { output_tokens: number }; order: { tx_hash: string } };
    expect(job).toMatchObject({ status: 'succeeded', usage: { output_tokens: 3 }, order: { chain_id: 8996 } });
    // The order that paid for the job is a mined transaction on the embedded chain's JSON-RPC port.
    const receipt = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionReceipt', params: [job.order.tx_hash] }),
    });
    expect(((await receipt.json()) as { result: { status: string } }).result.status).toBe('0x1');
    const account = (await (await fetch(`${url}/v1/account`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
      balance: number;
    };
    expect(account.balance).toBe(1_000_000 - job.cost);
    first.child.kill('SIGTERM');
    expect(await first.exited()).toBe(0);

    const second = startEntry('src/server.ts', { PORT: '0', CHAIN_PORT: '0', POSTHUMAN_DATA_DIR: dataDir });
    const [, url2] = await second.waitFor(/listening on (http:\/\/\S+)/, 120_000);
    // The chain is replayed from the data dir: the model is still an asset on it.
    await second.waitFor(/chain id 8996\); 1 model\(s\) published/);
    expect(second.output()).not.toContain(printed);
    const again = await fetch(`${url2}/v1/admin/accounts/${id}`, { headers: { authorization: `Bearer ${printed}` } });
    expect(again.status).toBe(200);
    second.child.kill('SIGINT');
    expect(await second.exited()).toBe(0);
  }, 300_000);
});
