import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounts } from '../../../src/accounts/accounts-schema.js';
import { openDatabase } from '../../../src/db/database.js';
import { jobs } from '../../../src/jobs/jobs-schema.js';
import { models } from '../../../src/models/models-schema.js';
import { sha256Hex } from '../../../src/receipts/canonical-json.js';
import { createKeyStore, type KeyStore } from '../../../src/receipts/key-store.js';
import { accountPseudonym, ReceiptBuildError } from '../../../src/receipts/receipt-builder.js';
import { createReceiptIssuer, type IssuedReceipt, type ReceiptIssuer } from '../../../src/receipts/receipt-issuer.js';
import { addToReceiptOutbox, createReceiptOutbox } from '../../../src/receipts/receipt-outbox.js';
import { receiptOutbox, receipts } from '../../../src/receipts/receipts-schema.js';
import { decodeReceipt } from '../../../src/receipts/receipt-signer.js';
import { verifyReceiptInclusion, verifyReceiptSignature } from '../../../src/receipts/receipt-verifier.js';
import type { JwsSigner } from '../../../src/receipts/signing-keys.js';
import { createTransparencyLog, type TransparencyLog } from '../../../src/receipts/transparency-log.js';
import { attestationPayload, signAttestation } from '../../../src/receipts/worker-attestation.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/test-database.js';

let t: TestDatabase;
let dataDir: string;
let keys: KeyStore;
let log: TransparencyLog;
let issuer: ReceiptIssuer;
let workerKey: JwsSigner;
let accountId: string;
const weights = 'ab'.repeat(32);
const runtime = { name: 'posthuman-onnx', version: '1.0.0' };
const model = { id: 'tiny-gpt2', did: 'did:op:1234', datatokenAddress: `0x${'12'.repeat(20)}`, chainId: 8996 };

beforeAll(async () => {
  t = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'posthuman-receipts-'));
  keys = createKeyStore({ db: t.database.db, dataDir });
  const gateway = await keys.ensureActive('gateway');
  workerKey = await keys.ensureActive('worker', 'worker-1');
  log = createTransparencyLog({ db: t.database.db, signer: gateway });
  issuer = createReceiptIssuer({ db: t.database.db, log, signer: gateway, keys });
  const [account] = await t.database.db.insert(accounts).values({ name: 'Receipt Holder' }).returning();
  accountId = account.id;
  await t.database.db.insert(models).values({
    ...model,
    name: 'Tiny',
    taskKinds: ['infer'],
    weightsSha256: weights,
    storagePath: 'tiny',
    contextLength: 64,
    architecture: {},
    pricePerJob: 1n,
    pricePer1kTokens: 2n,
  });
});
afterAll(async () => {
  await t?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function finishedJob(output = ' world') {
  const now = Date.now();
  const [job] = await t.database.db
    .insert(jobs)
    .values({
      kind: 'infer',
      status: 'succeeded',
      accountId,
      modelId: model.id,
      weightsSha256: weights,
      request: { input: 'Hello', parameters: { max_new_tokens: 2, temperature: 0, seed: 9 } },
      inputTokens: 1,
      result: { output, finish_reason: 'length' },
      outputTokens: 2,
      pricePerJob: 1n,
      pricePer1kTokens: 2n,
      maxCost: 10n,
      cost: 7n,
      workerId: 'worker-1',
      startedAt: new Date(now - 1000),
      finishedAt: new Date(now),
    })
    .returning();
  return job;
}

async function attest(job: Awaited<ReturnType<typeof finishedJob>>, result = job.result ?? {}) {
  const payload = attestationPayload({ jobId: job.id, kind: job.kind, request: job.request, result, weightsSha256: job.weightsSha256, workerId: 'worker-1', runtime });
  return signAttestation(workerKey, payload);
}

const worker = { id: 'worker-1', runtime, device: 'cpu' as const };

describe('receipt issuer', () => {
  it('issues a receipt that verifies by signature, attestation and inclusion under a signed head', async () => {
    const job = await finishedJob();
    const issued = await issuer.issue({ job, model, worker, attestation: await attest(job) });
    const { payload } = decodeReceipt(issued.jws);
    expect(payload).toMatchObject({ job_id: job.id, log_index: issued.logIndex, cost: '7', account: accountPseudonym(accountId) });
    expect(issued.jws).not.toContain('Receipt Holder');
    expect(payload.account).toBe(sha256Hex(`posthuman-account:${accountId}`));

    const jwks = await keys.jwks();
    expect((await verifyReceiptSignature(issued.jws, jwks)).ok).toBe(true);
    const proof = await log.inclusionProof(issued.receiptId);
    expect(await verifyReceiptInclusion(issued.jws, proof, jwks)).toMatchObject({ check: 'inclusion', ok: true });
    const wrongIndex = { ...proof, log_index: proof.log_index + 1 };
    expect((await verifyReceiptInclusion(issued.jws, wrongIndex, jwks)).ok).toBe(false);
  });

  it('returns the first receipt when a job is issued again, even concurrently', async () => {
    const job = await finishedJob();
    const attestation = await attest(job);
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => issuer.issue({ job, model, worker, attestation })));
    expect(new Set([a.receiptId, b.receiptId, c.receiptId]).size).toBe(1);
    expect([a, b, c].filter((r) => !r.replayed)).toHaveLength(1);
    expect((await issuer.findByJob(job.id))?.jws).toBe(a.jws);
  });

  it('refuses to issue when the attestation describes another output, and appends nothing', async () => {
    const job = await finishedJob();
    const before = await log.size();
    const attestation = await attest(job, { output: ' forged', finish_reason: 'length' });
    await expect(issuer.issue({ job, model, worker, attestation })).rejects.toThrow(ReceiptBuildError);
    expect(await log.size()).toBe(before);
    expect(await issuer.findByJob(job.id)).toBeUndefined();
  });

  it('keeps verifying receipts signed before a gateway key rotation', async () => {
    const job = await finishedJob(' before rotation');
    const before = await issuer.issue({ job, model, worker, attestation: await attest(job) });
    const rotated = await keys.rotate('gateway');
    const after = createReceiptIssuer({ db: t.database.db, log, signer: rotated, keys });
    const job2 = await finishedJob(' after rotation');
    const next = await after.issue({ job: job2, model, worker, attestation: await attest(job2) });
    expect(decodeReceipt(next.jws).header.kid).toBe(rotated.kid);
    const jwks = await keys.jwks();
    expect((await verifyReceiptSignature(before.jws, jwks)).ok).toBe(true);
    expect((await verifyReceiptSignature(next.jws, jwks)).ok).toBe(true);
    // Pinning only the new key rejects the old receipt.
    const pinned = jwks.keys.find((k) => k.kid === rotated.kid);
    expect((await verifyReceiptSignature(before.jws, pinned!)).checks[0].ok).toBe(false);
  });

  it('hashes an evaluation the same in the worker (in memory) and from the stored jsonb row', async () => {
    const result = { loss: Math.PI / 7, perplexity: Math.exp(Math.PI / 7), tokens: 3, results: [{ loss: 1 / 3, tokens: 3 }] };
    const [job] = await t.database.db
      .insert(jobs)
      .values({
        kind: 'evaluate',
        status: 'succeeded',
        accountId,
        modelId: model.id,
        weightsSha256: weights,
        request: { texts: ['a b c'] },
        inputTokens: 3,
        result,
        outputTokens: 0,
        pricePerJob: 1n,
        pricePer1kTokens: 2n,
        maxCost: 10n,
        cost: 1n,
        startedAt: new Date(),
        finishedAt: new Date(),
      })
      .returning();
    const issued = await issuer.issue({ job, model, worker, attestation: await attest(job, result) });
    expect(decodeReceipt(issued.jws).payload).toMatchObject({ kind: 'evaluate', parameters: null, usage: { input_tokens: 3, output_tokens: 0 } });
    expect((await verifyReceiptSignature(issued.jws, await keys.jwks())).ok).toBe(true);
  });

  it('issues a batch under one lock: consecutive indexes, each receipt verifies, a refused job appends nothing and holds up no other', async () => {
    const batch = await Promise.all([' one', ' two', ' three', ' four'].map((o) => finishedJob(o)));
    const forged = batch[2];
    const inputs = await Promise.all(
      batch.map(async (job) => ({ job, model, worker, attestation: await attest(job, job === forged ? { output: ' forged', finish_reason: 'length' } : job.result ?? {}) })),
    );
    const before = await log.size();
    // The first job twice: one receipt for it.
    const out = await issuer.issueMany([...inputs, inputs[0]]);
    expect(out.get(forged.id)).toBeInstanceOf(ReceiptBuildError);
    const issued = batch.filter((j) => j !== forged).map((j) => out.get(j.id) as IssuedReceipt);
    expect(issued.map((r) => r.logIndex)).toEqual([before, before + 1, before + 2]);
    expect(await log.size()).toBe(before + 3);
    expect(await issuer.findByJob(forged.id)).toBeUndefined();
    const jwks = await keys.jwks();
    for (const r of issued) {
      expect(r.replayed).toBe(false);
      expect(decodeReceipt(r.jws).payload.log_index).toBe(r.logIndex);
      expect(await verifyReceiptInclusion(r.jws, await log.inclusionProof(r.receiptId), jwks)).toMatchObject({ ok: true });
    }
    // Issued again in a later batch: the same receipts, replayed, and nothing appended.
    const again = await issuer.issueMany(inputs.filter((i) => i.job !== forged));
    expect([...again.values()].map((r) => (r as IssuedReceipt).receiptId)).toEqual(issued.map((r) => r.receiptId));
    expect([...again.values()].every((r) => (r as IssuedReceipt).replayed)).toBe(true);
    expect(await log.size()).toBe(before + 3);
  });

  it('drains concurrent requests for receipts from the outbox: each job once, a refused one left there with its error', async () => {
    const batch = await Promise.all([' a', ' b', ' c', ' d', ' e'].map((o) => finishedJob(o)));
    const forged = batch[4];
    for (const job of batch) {
      const attestation = await attest(job, job === forged ? { output: ' forged', finish_reason: 'length' } : job.result ?? {});
      await addToReceiptOutbox(t.database.db, { jobId: job.id, attestation, worker });
    }
    const outbox = createReceiptOutbox({ db: t.database.db, keyStore: keys, log, logger: pino({ level: 'silent' }) });
    const before = await log.size();
    const outcomes = await Promise.all([...batch, batch[0]].map((job) => outbox.drainJob(job.id, job === batch[1] ? { job } : undefined)));
    expect(outcomes).toEqual(['issued', 'issued', 'issued', 'issued', 'failed', 'issued']);
    expect(await log.size()).toBe(before + 4);
    const rows = await t.database.db.select().from(receipts).where(inArray(receipts.jobId, batch.map((j) => j.id)));
    expect(rows.map((r) => r.jobId).sort()).toEqual(batch.slice(0, 4).map((j) => j.id).sort());
    expect(new Set(rows.map((r) => r.logIndex)).size).toBe(4);
    const left = await t.database.db.select().from(receiptOutbox).where(inArray(receiptOutbox.jobId, batch.map((j) => j.id)));
    expect(left).toMatchObject([{ jobId: forged.id, attempts: 1, lastError: expect.stringMatching(/attestation does not match the job: output_sha256/) }]);
    expect(await outbox.drainJob(batch[0].id)).toBe('gone');
  });

  it('issues inside a transaction on the embedded database (one connection, no deadlock)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posthuman-pglite-'));
    const embedded = await openDatabase({ databaseUrl: undefined, dataDir: dir });
    try {
      await embedded.migrate();
      const db = embedded.db;
      const store = createKeyStore({ db, dataDir: dir });
      const gateway = await store.ensureActive('gateway');
      const wk = await store.ensureActive('worker', 'worker-1');
      const embeddedLog = createTransparencyLog({ db, signer: gateway });
      const embeddedIssuer = createReceiptIssuer({ db, log: embeddedLog, signer: gateway, keys: store });
      const [account] = await db.insert(accounts).values({ name: 'Embedded' }).returning();
      await db.insert(models).values({ ...model, name: 'Tiny', taskKinds: ['infer'], weightsSha256: weights, storagePath: 'tiny', contextLength: 64, architecture: {}, pricePerJob: 1n, pricePer1kTokens: 2n });
      const [job] = await db
        .insert(jobs)
        .values({ kind: 'infer', accountId: account.id, modelId: model.id, weightsSha256: weights, request: { input: 'Hi', parameters: { seed: 1 } }, inputTokens: 1, result: { output: '!', finish_reason: 'stop' }, outputTokens: 1, pricePerJob: 1n, pricePer1kTokens: 2n, maxCost: 10n, cost: 3n, startedAt: new Date(), finishedAt: new Date() })
        .returning();
      const attestation = await signAttestation(
        wk,
        attestationPayload({ jobId: job.id, kind: 'infer', request: job.request, result: job.result ?? {}, weightsSha256: weights, workerId: 'worker-1', runtime }),
      );
      const issued = await db.transaction((tx) => embeddedIssuer.issue({ job, model, worker, attestation }, tx));
      expect(issued.logIndex).toBe(0);
      const proof = await embeddedLog.inclusionProof(issued.receiptId);
      expect((await verifyReceiptInclusion(issued.jws, proof, await store.jwks())).ok).toBe(true);
    } finally {
      await embedded.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
