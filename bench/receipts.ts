// The cost of receipts on the hot path: /v1/infer latency and throughput with receipts and the
// transparency log on vs off (same run, same machine), and receipts verified per second by the
// verifier library. Postgres + Redis (BullMQ), consumers in the gateway process, no chain.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { receiptsForJobs } from '../src/receipts/receipt-lookup.js';
import { verifyReceiptSignature } from '../src/receipts/index.js';
import { buildTinyModel } from '../src/runtime/index.js';
import { type InferSample, percentile, scratchDatabase, startBenchGateway } from './bench-setup.js';

const SEQUENTIAL = 24;
const CONCURRENT = 64;
const work = await mkdtemp(join(tmpdir(), 'receipts-bench-'));
const modelDir = join(work, 'model');
await buildTinyModel(modelDir);
const db = await scratchDatabase();

async function measure(receipts: boolean) {
  const gw = await startBenchGateway({
    dbUrl: db.url,
    workDir: join(work, receipts ? 'on' : 'off'),
    modelDir,
    redis: true,
    env: { RECEIPTS: receipts ? 'on' : 'off', WORKER_CONCURRENCY: '32', BATCH_MAX: '8' },
  });
  for (let i = 0; i < 4; i++) await gw.infer(`warm ${i}`, 8);
  const sequential: InferSample[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) sequential.push(await gw.infer(`sequential ${i}`, 8));
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => gw.infer(`concurrent ${i}`, 8)));
  const perSecond = CONCURRENT / ((performance.now() - started) / 1000);
  const jwks = await gw.app.keyStore.jwks();
  const jobIds = (await gw.app.db.query.jobs.findMany({ columns: { id: true } })).map((j) => j.id);
  const found = [...(await receiptsForJobs(gw.app.db, jobIds)).values()].map((r) => r.jws);
  await gw.close();
  const ms = sequential.map((s) => s.ms);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), perSecond, jwks, receipts: found };
}

try {
  const off = await measure(false);
  const on = await measure(true);
  console.log('\n/v1/infer with receipts + transparency log on vs off (8 new tokens)');
  console.log('| receipts | sequential p50 ms | p99 ms | jobs/s at concurrency 64 |\n|---|---|---|---|');
  console.log(`| off | ${off.p50.toFixed(1)} | ${off.p99.toFixed(1)} | ${off.perSecond.toFixed(1)} |`);
  console.log(`| on | ${on.p50.toFixed(1)} | ${on.p99.toFixed(1)} | ${on.perSecond.toFixed(1)} |`);
  console.log(`| ratio on/off | ${(on.p50 / off.p50).toFixed(2)} | ${(on.p99 / off.p99).toFixed(2)} | ${(on.perSecond / off.perSecond).toFixed(2)} |`);

  if (on.receipts.length === 0) throw new Error('no receipts were issued');
  let verified = 0;
  const started = performance.now();
  while (performance.now() - started < 3000) {
    for (const jws of on.receipts) {
      const result = await verifyReceiptSignature(jws, on.jwks);
      if (!result.ok) throw new Error('a genuine receipt failed verification');
      verified++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nverifyReceiptSignature (gateway signature + worker attestation + hash agreement): ${(verified / seconds).toFixed(0)} receipts/s on one core`);
} finally {
  await db.drop();
  await rm(work, { recursive: true, force: true });
}
