// Shared set-up for gateway benchmarks: a scratch Postgres database, a gateway on loopback with a
// funded API key, and percentiles. Benchmarks print numbers and never fail on a time.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/db/database.js';
import { DEFAULT_MODEL_PRICES, registerModel } from '../src/models/model-registration.js';
import { type ChainSetup, setUpChain } from '../src/ocean/chain-setup.js';
import { connectRedis } from '../src/redis/connect-redis.js';

const ADMIN = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function admin(q: string) {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

export async function scratchDatabase() {
  const name = `ph_bench_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = Object.assign(new URL(ADMIN), { pathname: `/${name}` }).toString();
  return { url, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export interface InferSample {
  ms: number;
  tokens: number;
  computeMs: number;
}

/** A gateway on loopback with the model registered (and published when `chain` is given). */
export async function startBenchGateway(options: {
  dbUrl: string;
  workDir: string;
  modelDir: string;
  env: Record<string, string>;
  /** 'attach': a chain another process runs (CHAIN_RPC_URL in `env`, its files in the data dir). */
  chain?: ChainSetup | 'attach' | null;
  redis: boolean;
}) {
  const prefix = `bench:${randomBytes(4).toString('hex')}`;
  const token = randomBytes(24).toString('hex');
  const config = loadConfig({
    DATABASE_URL: options.dbUrl,
    REDIS_URL: options.redis ? BENCH_REDIS_URL : '',
    REDIS_PREFIX: prefix,
    POSTHUMAN_OPERATOR_TOKEN: token,
    POSTHUMAN_DATA_DIR: join(options.workDir, 'data'),
    LOG_LEVEL: 'warn',
    WORKER_IN_PROCESS: 'true',
    PORT: '0',
    CHAIN: options.chain ? 'on' : 'off',
    ...options.env,
  });
  const chain = options.chain === 'attach' ? await setUpChain(config, 'gateway', {}) : (options.chain ?? null);
  const database = await openDatabase({ databaseUrl: options.dbUrl, dataDir: config.dataDir, poolMax: 20 });
  await database.migrate();
  let model = await registerModel(database.db, config.dataDir, { id: 'tiny-gpt2', sourceDir: options.modelDir, ...DEFAULT_MODEL_PRICES });
  const redis = options.redis ? await connectRedis(BENCH_REDIS_URL) : null;
  const app = await buildApp({ config, database, redis, operatorToken: token, logger: false, chain });
  if (app.ocean) model = await app.ocean.ensurePublished(app.db, model);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const op = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) =>
    (await (await fetch(`${base}${path}`, { method: 'POST', headers: op, body: JSON.stringify(body) })).json()) as Record<string, string>;
  const account = await post('/v1/admin/accounts', { name: 'bench' });
  await post(`/v1/admin/accounts/${account.id}/credits`, { amount: 1_000_000_000_000, reason: 'bench' });
  const { key } = await post(`/v1/admin/accounts/${account.id}/keys`, {});
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  return {
    app,
    model,
    /** The gateway's base URL and the funded key's headers, for benchmarks of other routes. */
    base,
    headers,
    async infer(input: string, maxNewTokens: number): Promise<InferSample> {
      const started = performance.now();
      const res = await fetch(`${base}/v1/infer`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'tiny-gpt2', input, parameters: { max_new_tokens: maxNewTokens } }),
      });
      const job = (await res.json()) as { status: string; usage: { output_tokens: number }; compute_ms: number; error?: unknown };
      if (job.status !== 'succeeded') throw new Error(`job ${job.status}: ${JSON.stringify(job.error)}`);
      return { ms: performance.now() - started, tokens: job.usage.output_tokens, computeMs: job.compute_ms };
    },
    async close() {
      await app.close();
      if (redis) {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      }
      await database.close();
    },
  };
}
