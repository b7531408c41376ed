// Gateway benchmarks for /v1/infer: (a) runtime called directly vs through the gateway, (b)
// throughput at concurrency 1/4/16 with and without batching, (c) gateway overhead (end-to-end
// latency minus the worker's compute time). Real Postgres, Redis (BullMQ) and HTTP on loopback;
// the queue consumers run in the gateway process; no chain (CHAIN=off) to isolate the job path.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyModel, createInferenceEngine } from '../src/runtime/index.js';
import { type InferSample, percentile as pct, scratchDatabase, startBenchGateway } from './bench-setup.js';

const NEW_TOKENS = 48;
const PROMPTS = ['The quick brown fox', 'Once upon a time', 'In the beginning', 'Hello, my name is', 'The weather today is', 'Transformers are', 'A long time ago', 'def main():'];

const work = await mkdtemp(join(tmpdir(), 'gateway-bench-'));
const modelDir = join(work, 'model');
await buildTinyModel(modelDir);
const db = await scratchDatabase();

async function load(infer: (i: string) => Promise<InferSample>, concurrency: number, total: number) {
  let next = 0;
  const samples: InferSample[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        samples.push(await infer(PROMPTS[i % PROMPTS.length]));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { samples, tokensPerSecond: samples.reduce((s, x) => s + x.tokens, 0) / seconds };
}

try {
  // (a) direct vs gateway, one request at a time.
  const engine = await createInferenceEngine({ modelDir, threads: 2, maxBatch: 8, maxWaitMs: 5 });
  await engine.generate({ input: 'warm', maxNewTokens: 8 });
  const directStart = performance.now();
  let directTokens = 0;
  for (let i = 0; i < 16; i++) directTokens += (await engine.generate({ input: PROMPTS[i % 8], maxNewTokens: NEW_TOKENS })).outputTokens;
  const direct = directTokens / ((performance.now() - directStart) / 1000);
  await engine.close();

  const results: Record<string, Awaited<ReturnType<typeof load>>> = {};
  for (const batchMax of [8, 1]) {
    const gw = await startBenchGateway({
      dbUrl: db.url,
      workDir: work,
      modelDir,
      redis: true,
      env: { WORKER_CONCURRENCY: '32', WORKER_THREADS: '2', BATCH_MAX: String(batchMax), BATCH_WAIT_MS: '5' },
    });
    const infer = (input: string) => gw.infer(input, NEW_TOKENS);
    await load(infer, 4, 8); // warm-up: engine load, JIT, connections
    for (const c of [1, 4, 16]) results[`${batchMax}:${c}`] = await load(infer, c, c === 1 ? 16 : 48);
    await gw.close();
  }
  const viaGateway = results['8:1'].tokensPerSecond;
  console.log(`\n(a) runtime direct vs through the gateway, sequential, ${NEW_TOKENS} new tokens each`);
  console.log('| path | tokens/s |\n|---|---|');
  console.log(`| runtime direct | ${direct.toFixed(0)} |\n| POST /v1/infer (HTTP, Postgres, BullMQ, worker) | ${viaGateway.toFixed(0)} |`);
  console.log(`| ratio gateway / direct | ${(viaGateway / direct).toFixed(2)} |`);

  console.log('\n(b) throughput through the gateway (tokens/s), with and without dynamic batching');
  console.log('| concurrency | batching (max 8) | no batching (max 1) | ratio |\n|---|---|---|---|');
  for (const c of [1, 4, 16]) {
    const a = results[`8:${c}`].tokensPerSecond;
    const b = results[`1:${c}`].tokensPerSecond;
    console.log(`| ${c} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)} |`);
  }

  console.log('\n(c) gateway overhead = end-to-end latency − worker compute time (ms), batching on');
  console.log('| concurrency | e2e p50 | e2e p99 | overhead p50 | overhead p99 |\n|---|---|---|---|---|');
  for (const c of [1, 4, 16]) {
    const s = results[`8:${c}`].samples;
    const e2e = s.map((x) => x.ms);
    const over = s.map((x) => x.ms - x.computeMs);
    console.log(`| ${c} | ${pct(e2e, 50).toFixed(1)} | ${pct(e2e, 99).toFixed(1)} | ${pct(over, 50).toFixed(1)} | ${pct(over, 99).toFixed(1)} |`);
  }
} finally {
  await db.drop();
  await rm(work, { recursive: true, force: true });
}
