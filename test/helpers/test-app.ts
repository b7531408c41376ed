// Builds the real app for an integration test file: its own database, its own Redis key prefix.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { type App, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { connectRedis } from '../../src/redis/connect-redis.js';
import type { ChainSetup } from '../../src/ocean/chain-setup.js';
import { DEFAULT_MODEL_PRICES, registerModel } from '../../src/models/model-registration.js';
import { inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestApp {
  app: App;
  config: Config;
  testDb: TestDatabase;
  /** Null when the test asked for the embedded in-process queue (REDIS_URL: ''). */
  redis: Redis | null;
  operatorToken: string;
  operatorHeaders: { authorization: string };
  close(): Promise<void>;
}

/** `shared` reuses another test app's database (a second replica); it is then not dropped on close. */
export async function createTestApp(
  env: Record<string, string> = {},
  shared?: TestDatabase,
  chain: ChainSetup | null = null,
): Promise<TestApp> {
  const testDb = shared ?? (await createTestDatabase());
  const prefix = env.REDIS_PREFIX ?? `test:${randomBytes(6).toString('hex')}`;
  const operatorToken = `op_${randomBytes(24).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: testDb.url,
    REDIS_URL: REDIS_URL,
    REDIS_PREFIX: prefix,
    POSTHUMAN_OPERATOR_TOKEN: operatorToken,
    POSTHUMAN_DATA_DIR: `/tmp/posthuman-test-${prefix.replace(':', '-')}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    CHAIN: chain ? 'on' : 'off',
    ...env,
  });
  let redis: Redis | null = null;
  if (config.redisUrl) {
    try {
      redis = await connectRedis(config.redisUrl);
    } catch (err) {
      throw new Error(`integration tests need Redis at ${REDIS_URL} (set TEST_REDIS_URL): ${String(err)}`);
    }
  }
  const app = await buildApp({
    config,
    database: testDb.database,
    redis,
    operatorToken,
    checkResponseContract: true,
    chain,
  });
  await app.ready();
  return {
    app,
    config,
    testDb,
    redis,
    operatorToken,
    operatorHeaders: { authorization: `Bearer ${operatorToken}` },
    async close() {
      await app.close();
      if (redis) {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      }
      rmSync(config.dataDir, { recursive: true, force: true });
      if (!shared) await testDb.drop();
    },
  };
}

/** Registers the run's tiny model in this test app's registry and weights store. */
export async function registerTinyModel(t: TestApp, id = 'tiny-gpt2', ownerAccountId: string | null = null) {
  return registerModel(t.app.db, t.config.dataDir, {
    id,
    sourceDir: inject('tinyModelDir'),
    ...DEFAULT_MODEL_PRICES,
    ownerAccountId,
  });
}

/** Creates an account through the API, grants it credit and issues a key; returns the key. */
export async function createFundedAccount(
  t: TestApp,
  options: { name?: string; credits?: number; scopes?: string[]; rateLimitPerMinute?: number; spendCap?: number } = {},
) {
  const created = await t.app.inject({
    method: 'POST',
    url: '/v1/admin/accounts',
    headers: t.operatorHeaders,
    payload: { name: options.name ?? 'test account' },
  });
  if (created.statusCode !== 201) throw new Error(`create account failed: ${created.body}`);
  const account = created.json() as { id: string; name: string };
  if (options.credits) {
    const grant = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/accounts/${account.id}/credits`,
      headers: t.operatorHeaders,
      payload: { amount: options.credits, reason: 'test funding' },
    });
    if (grant.statusCode !== 201) throw new Error(`grant failed: ${grant.body}`);
  }
  const keyRes = await t.app.inject({
    method: 'POST',
    url: `/v1/admin/accounts/${account.id}/keys`,
    headers: t.operatorHeaders,
    payload: {
      ...(options.scopes ? { scopes: options.scopes } : {}),
      ...(options.rateLimitPerMinute ? { rate_limit_per_minute: options.rateLimitPerMinute } : {}),
      ...(options.spendCap ? { spend_cap: options.spendCap } : {}),
    },
  });
  if (keyRes.statusCode !== 201) throw new Error(`create key failed: ${keyRes.body}`);
  const key = keyRes.json() as { id: string; key: string; prefix: string };
  return { account, key, headers: { authorization: `Bearer ${key.key}` } };
}
