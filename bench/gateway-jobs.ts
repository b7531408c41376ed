// Gateway benchmarks for /v1/infer: (a) runtime called directly vs through the gateway, (b)
// throughput at concurrency 1/4/16 with and without batching, (c) gateway overhead (end-to-end
// latency minus the worker's compute time). Real Postgres, Redis (BullMQ) and HTTP on loopback;
// the queue consumers run in the gateway process. Prints tables; never fails on a time.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/db/database.js';
import { DEFAULT_MODEL_PRICES, registerModel } from '../src/models/model-registration.js';
import { connectRedis } from '../src/redis/connect-redis.js';
import { buildTinyModel, createInferenceEngine } from '../src/runtime/index.js';

const ADMIN = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NEW_TOKENS = 48;
const PROMPTS = ['The quick brown fox', 'Once upon a time', 'In the beginning', 'Hello, my name is', 'The weather today is', 'Transformers are', 'A long time ago', 'def main():'];

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const admin = async (q: string) => {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
};

const work = await mkdtemp(join(tmpdir(), 'gateway-bench-'));
const modelDir = join(work, 'model');
await buildTinyModel(modelDir);
const dbName = `ph_bench_${randomBytes(4).toString('hex')}`;
await admin(`CREATE DATABASE ${dbName}`);
const dbUrl = Object.assign(new URL(ADMIN), { pathname: `/${dbName}` }).toString();

async function startGateway(batchMax: number) {
  const prefix = `bench:${randomBytes(4).toString('hex')}`;
  const token = randomBytes(24).toString('hex');
  const config = loadConfig({
    DATABASE_URL: dbUrl, REDIS_URL: REDIS, REDIS_PREFIX: prefix, POSTHUMAN_OPERATOR_TOKEN: token,
    POSTHUMAN_DATA_DIR: join(work, 'data'), LOG_LEVEL: 'warn', WORKER_IN_PROCESS: 'true', WORKER_CONCURRENCY: '32',
    WORKER_THREADS: '2', BATCH_MAX: String(batchMax), BATCH_WAIT_MS: '5', PORT: '0',
  });
  const database = await openDatabase({ databaseUrl: dbUrl, dataDir: config.dataDir, poolMax: 20 });
  await database.migrate();
  await registerModel(database.db, config.dataDir, { id: 'tiny-gpt2', sourceDir: modelDir, ...DEFAULT_MODEL_PRICES });
  const redis = await connectRedis(REDIS);
  const app = await buildApp({ config, database, redis, operatorToken: token, logger: false });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const op = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const account = (await (await fetch(`${base}/v1/admin/accounts`, { method: 'POST', headers: op, body: '{"name":"bench"}' })).json()) as { id: string };
  await fetch(`${base}/v1/admin/accounts/${account.id}/credits`, { method: 'POST', headers: op, body: '{"amount":1000000000000,"reason":"bench"}' });
  const { key } = (await (await fetch(`${base}/v1/admin/accounts/${account.id}/keys`, { method: 'POST', headers: op, body: '{}' })).json()) as { key: string };
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const infer = async (input: string) => {
    const started = performance.now();
    const res = await fetch(`${base}/v1/infer`, { method: 'POST', headers, body: JSON.stringify({ model: 'tiny-gpt2', input, parameters: { max_new_tokens: NEW_TOKENS } }) });
    const job = (await res.json()) as { status: string; usage: { output_tokens: number }; compute_ms: number };
    if (job.status !== 'succeeded') throw new Error(`job ${job.status}`);
    return { ms: performance.now() - started, tokens: job.usage.output_tokens, computeMs: job.compute_ms };
  };
  return {
    infer,
    async close() {
      await app.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await database.close();
    },
  };
}

async function load(infer: (i: string) => Promise<{ ms: number; tokens: number; computeMs: number }>, concurrency: number, total: number) {
  let next = 0;
  const samples: { ms: number; tokens: number; computeMs: number }[] = [];
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
  return { samples, tokensPerSecond: samples.reduce((s, x) => s + x.tokens, 0) / seconds, requestsPerSecond: samples.length / seconds };
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
    const gw = await startGateway(batchMax);
    await load(gw.infer, 4, 8); // warm-up: engine load, JIT, connections
    for (const c of [1, 4, 16]) results[`${batchMax}:${c}`] = await load(gw.infer, c, c === 1 ? 16 : 48);
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
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await rm(work, { recursive: true, force: true });
}
