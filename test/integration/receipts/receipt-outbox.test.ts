// Each role holds only its own secrets, and receipts follow settlement through a durable outbox:
// a worker with nothing but its own attestation key (no gateway key, no wallet file) serves paid jobs
// on a real chain, and only the gateway signs their receipts; a rotation in one gateway replica signs
// the next receipt another replica issues; a receipt left in the outbox while every gateway was down
// (or whose issue crashed before commit) is issued exactly once by the next gateway; an audit whose
// enqueue was lost is enqueued by the watchdog. Real Postgres, Redis, worker processes and chain.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAudit } from '../../../src/audits/audit-service.js';
import type { ChainSetup } from '../../../src/ocean/chain-setup.js';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { createKeyStore } from '../../../src/receipts/key-store.js';
import { createReceiptOutbox } from '../../../src/receipts/receipt-outbox.js';
import { decodeReceipt } from '../../../src/receipts/receipt-signer.js';
import { logEntries, receiptOutbox, receipts } from '../../../src/receipts/receipts-schema.js';
import { createTransparencyLog } from '../../../src/receipts/transparency-log.js';
import type { RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually, idleWorkerHeartbeat, startWorker, stopWorker } from '../../helpers/worker-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-outbox-'));
const workerDirs: string[] = [];
const newWorkerDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'posthuman-outbox-worker-'));
  workerDirs.push(dir);
  return dir;
};
let ocean: EmbeddedOcean;
let t: TestApp;
/** Other gateway replicas on the same database, Redis prefix and gateway keys dir. */
const replicas: TestApp[] = [];
const workers: RunningProcess[] = [];
let account: Awaited<ReturnType<typeof createFundedAccount>>;

// The chain outlives every gateway here: no app stops it.
const chain = (): ChainSetup => ({ mode: 'embedded', config: ocean.config, stop: async () => {} });
const replica = async () => {
  const r = await createTestApp(
    { POSTHUMAN_DATA_DIR: dataDir, REDIS_PREFIX: t.config.redisPrefix, ORDER_POOL_SIZE: '0', ANCHOR_INTERVAL_MS: '0' },
    t.testDb,
    chain(),
  );
  replicas.push(r);
  return r;
};
/** Closes a replica's app only: its Redis keys, data dir and database belong to the whole test. */
const stopReplica = async (r: TestApp) => {
  await r.app.close();
  await r.redis?.quit();
};
/** A worker whose data dir is its own: it starts with nothing, and gets its chain facts without a key. */
const ownWorker = (id: string, chainFacts: Record<string, string>) =>
  startWorker(t, { CHAIN: 'on', CHAIN_RPC_URL: ocean.chain.rpcUrl, WORKER_ID: id, POSTHUMAN_DATA_DIR: newWorkerDir(), ...chainFacts });

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
const countRows = async (table: typeof receipts | typeof receiptOutbox, jobId: string) =>
  (await t.testDb.database.db.select().from(table).where(eq(table.jobId, jobId))).length;

beforeAll(async () => {
  ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  t = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', ANCHOR_INTERVAL_MS: '0' }, undefined, chain());
  await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t));
  account = await createFundedAccount(t, { credits: 10_000_000 });
});
afterAll(async () => {
  for (const w of workers) await stopWorker(w);
  for (const r of replicas) await stopReplica(r).catch(() => {});
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
  await ocean?.stop();
  for (const dir of [dataDir, ...workerDirs]) rmSync(dir, { recursive: true, force: true });
});

const infer = (app: TestApp['app'], input: string, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/infer',
    headers: { ...account.headers, ...headers },
    payload: { model: 'tiny-gpt2', input, parameters: { max_new_tokens: 2 } },
  });

let firstJob: { id: string };

describe('a worker holds its own attestation key and nothing else', () => {
  it('serves paid jobs from a data dir holding only its own key; the gateway signs receipts that verify', async () => {
    workers.push(await ownWorker('own-key-1', { CHAIN_PUBLIC_FILE: ocean.publicFile }));
    const res = await infer(t.app, 'who holds which key');
    expect(res.statusCode, res.body).toBe(200);
    const job = res.json();
    // The sync answer waited for the receipt, so it carries it.
    expect(job).toMatchObject({ status: 'succeeded', receipt: { jws: expect.any(String) } });
    firstJob = job;

    const workerFiles = filesUnder(workerDirs[0]);
    expect(workerFiles).toHaveLength(1);
    expect(workerFiles[0]).toMatch(/^keys\/worker\/wk-own-key-1-[0-9a-f]{8}\.jwk$/);
    const { header, payload } = decodeReceipt(job.receipt.jws);
    expect(header.kid).toMatch(/^gw-/);
    expect(payload.worker).toMatchObject({ id: 'own-key-1' });
    const attestationKid = decodeProtectedHeader(String(payload.attestation)).kid;
    expect(`keys/worker/${attestationKid}.jwk`).toBe(workerFiles[0]);
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([header.kid, attestationKid]));

    const anchored = await t.app.inject({ method: 'POST', url: '/v1/admin/log/anchor', headers: t.operatorHeaders, payload: {} });
    expect(anchored.statusCode, anchored.body).toBe(200);
    const report = (
      await t.app.inject({ method: 'POST', url: '/v1/receipts/verify', headers: account.headers, payload: { receipt: job.receipt.jws } })
    ).json();
    expect(report.checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok])).toEqual([
      ['signature', true],
      ['attestation', true],
      ['weights', true],
      ['order', true],
      ['inclusion', true],
    ]);
  });

  it('takes its chain facts from CHAIN_CONSUMER_ADDRESS / CHAIN_PROVIDER_ADDRESS too, and streams the receipt in `done`', async () => {
    await stopWorker(workers.pop());
    workers.push(
      await ownWorker('own-key-2', {
        CHAIN_CONSUMER_ADDRESS: t.app.ocean!.consumerAddress,
        CHAIN_PROVIDER_ADDRESS: t.app.ocean!.client.providerAddress,
        // A local chain has no published address book: the factory models must come from, by address.
        CHAIN_FACTORY_ADDRESS: t.app.ocean!.client.addresses.ERC721Factory,
      }),
    );
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/infer',
      headers: account.headers,
      payload: { model: 'tiny-gpt2', input: 'streamed', parameters: { max_new_tokens: 2 }, stream: true },
    });
    const done = res.body.split('\n\n').find((e) => e.startsWith('event: done'));
    const job = JSON.parse(String(done).split('data: ')[1]);
    expect(job).toMatchObject({ status: 'succeeded', receipt: { jws: expect.any(String) } });
    expect(decodeReceipt(job.receipt.jws).payload.worker).toMatchObject({ id: 'own-key-2' });
    expect(filesUnder(workerDirs[1])).toEqual([expect.stringMatching(/^keys\/worker\/wk-own-key-2-[0-9a-f]{8}\.jwk$/)]);
  });

  it('cannot load or mint a gateway key', async () => {
    const store = createKeyStore({ db: t.app.db, dataDir: newWorkerDir(), role: 'worker' });
    await expect(store.ensureActive('gateway')).rejects.toThrow(/never a gateway key/);
    await expect(store.currentGateway()).rejects.toThrow(/never a gateway key/);
    await expect(store.rotate('gateway')).rejects.toThrow(/never a gateway key/);
  });
});

describe('rotation reaches every gateway replica', () => {
  it('a rotation in one replica signs the next receipt another replica issues', async () => {
    const other = await replica();
    const before = decodeReceipt((await infer(other.app, 'before rotation')).json().receipt.jws).header.kid;
    const rotated = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: t.operatorHeaders, payload: {} });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const kid = rotated.json().kid;
    expect(kid).not.toBe(before);
    const after = (await infer(other.app, 'after rotation')).json();
    expect(after.status).toBe('succeeded');
    expect(decodeReceipt(after.receipt.jws).header.kid).toBe(kid);
  });
});

describe('receipts follow settlement through the outbox', () => {
  it('a job settled while every gateway is down gets its receipt from the next gateway, exactly once', async () => {
    // Submit, then stop every gateway before a worker takes the job.
    await stopWorker(workers.pop());
    const heartbeat = await idleWorkerHeartbeat(t);
    const submitter = replicas[0];
    const accepted = await infer(submitter.app, 'settled with no gateway up', { prefer: 'respond-async' });
    expect(accepted.statusCode, accepted.body).toBe(202);
    const jobId: string = accepted.json().id;
    await heartbeat();
    await stopReplica(submitter);
    replicas.splice(0, 1);
    await t.app.close();

    workers.push(await ownWorker('own-key-3', { CHAIN_PUBLIC_FILE: ocean.publicFile }));
    const db = t.testDb.database.db;
    await eventually(async () => {
      const rows = (await db.execute(sql`SELECT status FROM jobs WHERE id = ${jobId}`)) as unknown as { rows: { status: string }[] };
      return rows.rows[0]?.status === 'succeeded';
    }, 60_000);
    // Settled and charged; the attestation waits in the outbox; no worker signed a receipt.
    expect(await countRows(receiptOutbox, jobId)).toBe(1);
    expect(await countRows(receipts, jobId)).toBe(0);

    // A gateway that crashes after signing and logging, before commit, leaves nothing behind.
    const keyStore = createKeyStore({ db, dataDir });
    const crashing = createReceiptOutbox({
      db,
      keyStore,
      log: createTransparencyLog({ db, signer: await keyStore.currentGateway() }),
      logger: t.app.log,
      faultCrashBeforeCommit: true,
    });
    const leavesBefore = (await db.select().from(logEntries)).length;
    expect(await crashing.drainJob(jobId)).toBe('failed');
    expect(await countRows(receipts, jobId)).toBe(0);
    expect((await db.select().from(logEntries)).length).toBe(leavesBefore);
    const [left] = await db.select().from(receiptOutbox).where(eq(receiptOutbox.jobId, jobId));
    expect(left).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/fault injection/) });

    // The next gateway issues it (its sweep, after the back-off), once.
    const next = await replica();
    const issued = await eventually(async () => (await db.select().from(receipts).where(eq(receipts.jobId, jobId)))[0], 30_000);
    expect(await countRows(receiptOutbox, jobId)).toBe(0);
    expect(await next.app.receiptOutbox!.drainJob(jobId)).toBe('gone');
    await next.app.receiptOutbox!.sweep();
    expect(await countRows(receipts, jobId)).toBe(1);
    const leaves = await db.select().from(logEntries).where(eq(logEntries.receiptId, issued.receiptId));
    expect(leaves).toHaveLength(1);
    expect(leavesBefore + 1).toBe((await db.select().from(logEntries)).length);
    const answer = (await next.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}`, headers: account.headers })).json();
    expect(answer.receipt).toMatchObject({ id: issued.receiptId, jws: issued.jws });
  });
});

describe('audits never stay queued', () => {
  it('an audit committed without its enqueue (a crash in between) is enqueued by the watchdog and runs', async () => {
    // The first job ran on own-key-1 (stopped); own-key-3 may replay it.
    const gateway = replicas[replicas.length - 1];
    const audit = await insertAudit(gateway.app.db, firstJob.id, 'operator');
    expect((await gateway.app.jobQueue.stateOf('audit', audit.id)).state).toBe('missing');
    const finished = await eventually(async () => {
      const res = (await gateway.app.inject({ method: 'GET', url: `/v1/admin/audits/${audit.id}`, headers: gateway.operatorHeaders })).json();
      return ['passed', 'mismatch', 'error'].includes(res.status) ? res : null;
    }, 60_000);
    expect(finished).toMatchObject({ status: 'passed', original_worker_id: 'own-key-1', replay_worker_id: 'own-key-3' });
  });
});
