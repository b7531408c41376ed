// The database steps issue 12's breakdown points at, alone (no HTTP, queue, chain or model): a hold,
// its settle, and a receipt drained from the outbox (sign + log append), each timed sequentially on
// a scratch Postgres, then receipts drained 16 at a time (group commit). Same public API before and
// after a change, so two trees can be compared. Never fails on a time.
//   npx tsx bench/db-steps.ts [sequential rounds = 150]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { percentile, scratchDatabase } from './bench-setup.js';
import { openDatabase } from '../src/db/database.js';
import { accounts } from '../src/accounts/accounts-schema.js';
import { models } from '../src/models/models-schema.js';
import { jobs } from '../src/jobs/jobs-schema.js';
import { createKeyStore } from '../src/receipts/key-store.js';
import { createTransparencyLog } from '../src/receipts/transparency-log.js';
import { addToReceiptOutbox, createReceiptOutbox } from '../src/receipts/receipt-outbox.js';
import { attestationPayload, signAttestation } from '../src/receipts/worker-attestation.js';
import { createLedger } from '../src/credits/credit-ledger.js';

const N = Number(process.argv[2] ?? 150);
const scratch = await scratchDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'rc-micro-'));
const database = await openDatabase({ databaseUrl: scratch.url, dataDir });
await database.migrate();
const db = database.db;
const keys = createKeyStore({ db, dataDir });
const gateway = await keys.ensureActive('gateway');
const wk = await keys.ensureActive('worker', 'w1');
const log = createTransparencyLog({ db, signer: gateway });
const outbox = createReceiptOutbox({ db, keyStore: keys, log, logger: pino({ level: 'silent' }) });
const ledger = createLedger({ db });
const [account] = await db.insert(accounts).values({ name: 'bench' }).returning();
await ledger.grant({ accountId: account.id, amount: 10n ** 12n, reason: 'bench', idempotencyKey: 'g' });
const weights = 'ab'.repeat(32);
const model = { id: 'tiny', did: 'did:op:1', datatokenAddress: `0x${'12'.repeat(20)}`, chainId: 8996 };
await db.insert(models).values({ ...model, name: 'Tiny', taskKinds: ['infer'], weightsSha256: weights, storagePath: 'tiny', contextLength: 64, architecture: {}, pricePerJob: 1n, pricePer1kTokens: 2n });
const runtime = { name: 'r', version: '1' };
const worker = { id: 'w1', runtime, device: 'cpu' as const };

async function finishedJob(i: number) {
  const now = Date.now();
  const [job] = await db.insert(jobs).values({ kind: 'infer', status: 'succeeded', accountId: account.id, modelId: model.id, weightsSha256: weights,
    request: { input: `hi ${i}`, parameters: { max_new_tokens: 2, temperature: 0, seed: 1 } }, inputTokens: 1, result: { output: ` ${i}`, finish_reason: 'length' },
    outputTokens: 2, pricePerJob: 1n, pricePer1kTokens: 2n, maxCost: 10n, cost: 7n, workerId: 'w1', startedAt: new Date(now - 10), finishedAt: new Date(now) }).returning();
  const attestation = await signAttestation(wk, attestationPayload({ jobId: job.id, kind: job.kind, request: job.request, result: job.result ?? {}, weightsSha256: weights, workerId: 'w1', runtime }));
  await addToReceiptOutbox(db, { jobId: job.id, attestation, worker });
  return job;
}
const time = async (fn: () => Promise<unknown>) => { const s = performance.now(); await fn(); return performance.now() - s; };
const fmt = (xs: number[]) => `${percentile(xs, 50).toFixed(2)} / ${percentile(xs, 99).toFixed(2)}`;

const hold: number[] = []; const settle: number[] = []; const drain1: number[] = [];
for (let i = 0; i < N + 10; i++) {
  let holdId = '';
  const h = await time(async () => { holdId = (await ledger.hold({ accountId: account.id, amount: 100n, idempotencyKey: `h${i}` })).holdId; });
  const s = await time(() => ledger.settle({ holdId, capture: 37n }));
  const job = await finishedJob(i);
  const d = await time(() => outbox.drainJob(job.id, { job }));
  if (i >= 10) { hold.push(h); settle.push(s); drain1.push(d); }
}
const batch = await Promise.all(Array.from({ length: 160 }, (_, i) => finishedJob(100_000 + i)));
const started = performance.now();
const c16: number[] = [];
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => { while (next < batch.length) { const job = batch[next++]; c16.push(await time(() => outbox.drainJob(job.id, { job }))); } }));
const rps = batch.length / ((performance.now() - started) / 1000);
console.log(`hold p50/p99 ${fmt(hold)} ms | settle ${fmt(settle)} ms | receipt drain c=1 ${fmt(drain1)} ms | c=16 ${fmt(c16)} ms, ${rps.toFixed(0)} receipts/s`);
await database.close();
await scratch.drop();
rmSync(dataDir, { recursive: true, force: true });
