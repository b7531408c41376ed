// No paid order is lost when the gateway stops: the orders its pool bought ahead are in Postgres, and
// a gateway started again on the same database and chain hands them to its next jobs before buying
// new ones. Real Postgres, Redis and local chain; the jobs run in process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { oceanPooledOrders } from '../../../src/ocean/order-pool-schema.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-database.js';

let ocean: EmbeddedOcean;
let db: TestDatabase;
const oceanDir = mkdtempSync(join(tmpdir(), 'posthuman-pool-chain-'));
const appDir = mkdtempSync(join(tmpdir(), 'posthuman-pool-app-'));
const env = { POSTHUMAN_DATA_DIR: appDir, ORDER_POOL_SIZE: '3', WORKER_IN_PROCESS: 'true', REDIS_PREFIX: `test:${randomBytes(6).toString('hex')}`, ANCHOR_INTERVAL_MS: '0' };
// The chain outlives both gateways.
const chain = () => ({ mode: 'embedded' as const, config: ocean.config, stop: async () => {} });

beforeAll(async () => {
  db = await createTestDatabase();
  ocean = await startEmbeddedOcean({ dataDir: oceanDir, port: 0 });
});
afterAll(async () => {
  await ocean?.stop();
  await db?.drop();
  rmSync(oceanDir, { recursive: true, force: true });
  rmSync(appDir, { recursive: true, force: true });
});

const infer = async (t: TestApp, headers: Record<string, string>) =>
  (await t.app.inject({ method: 'POST', url: '/v1/infer', headers, payload: { model: 'tiny-gpt2', input: 'paid ahead', parameters: { max_new_tokens: 1 } } })).json();

/** Stops a gateway the way a deploy does, keeping its data dir and database for the next one. */
async function stopGateway(t: TestApp) {
  await t.app.close();
  await t.redis?.quit();
}

describe('the order pool across a restart', () => {
  it('hands the orders bought ahead by the previous gateway to the next jobs', async () => {
    const first = await createTestApp(env, db, chain());
    let pooled: string[];
    let firstJob: string;
    try {
      const model = await first.app.ocean!.ensurePublished(first.app.db, await registerTinyModel(first));
      await first.app.ocean!.warm(model);
      const rows = await first.app.db.select().from(oceanPooledOrders).where(eq(oceanPooledOrders.chainId, ocean.config.chainId));
      expect(rows.length).toBeGreaterThanOrEqual(3);
      expect(rows.every((r) => r.consumer === first.app.ocean!.consumerAddress && r.datatoken === model.datatokenAddress)).toBe(true);
      const { headers } = await createFundedAccount(first, { credits: 1_000_000 });
      const job = await infer(first, headers);
      expect(job.status).toBe('succeeded');
      firstJob = job.order.tx_hash;
      expect(rows.map((r) => r.txHash)).toContain(firstJob);
    } finally {
      await stopGateway(first);
    }
    // What the stopped gateway paid for and no job carries (the refill may have added one).
    pooled = (await db.database.db.select().from(oceanPooledOrders)).map((r) => r.txHash).filter((h) => h !== firstJob);
    expect(pooled.length).toBeGreaterThanOrEqual(2);

    const second = await createTestApp(env, db, chain());
    try {
      const { headers } = await createFundedAccount(second, { credits: 1_000_000 });
      const jobs = [await infer(second, headers), await infer(second, headers)];
      expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
      const used = jobs.map((j) => j.order.tx_hash);
      expect(new Set(used).size).toBe(2);
      for (const hash of used) expect(pooled).toContain(hash);
      expect(used).not.toContain(firstJob);
    } finally {
      await stopGateway(second);
    }
  });
});
