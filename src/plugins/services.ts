// Wires the infrastructure and domain services onto the app, built explicitly from their dependencies.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { type AccountRepository, createAccountRepository } from '../accounts/account-repository.js';
import type { Config } from '../config/config.js';
import { createLedger, type Ledger } from '../credits/credit-ledger.js';
import type { Database, Db } from '../db/database.js';
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from '../rate-limit/rate-limiter.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    database: Database;
    db: Db;
    redis: Redis | null;
    ledger: Ledger;
    accountRepository: AccountRepository;
    rateLimiter: RateLimiter;
  }
}

export interface ServicesOptions {
  config: Config;
  database: Database;
  redis: Redis | null;
}

export default fp(
  async function services(app: FastifyInstance, opts: ServicesOptions) {
    const { db } = opts.database;
    app.decorate('config', opts.config);
    app.decorate('database', opts.database);
    app.decorate('db', db);
    app.decorate('redis', opts.redis);
    app.decorate('ledger', createLedger({ db }));
    app.decorate('accountRepository', createAccountRepository(db));
    app.decorate(
      'rateLimiter',
      opts.redis ? createRedisRateLimiter(opts.redis, opts.config.redisPrefix) : createMemoryRateLimiter(),
    );
  },
  { name: 'services' },
);
