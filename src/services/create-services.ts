// Builds what one role needs to run jobs, in one place: the gateway (producer; consumer too in the
// embedded default) and a worker (consumer). Queue, job events and ledger for both; the gateway's
// Ocean wallets for the gateway only; the order checker (public chain facts) and the consumers
// wherever jobs run. One close() in reverse order.
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { createLedger, type Ledger } from '../credits/credit-ledger.js';
import type { Db } from '../db/database.js';
import { startConsumers } from '../jobs/job-consumers.js';
import { createMemoryJobEvents, createRedisJobEvents, type JobEvents } from '../jobs/job-events.js';
import { createBullmqQueue, createMemoryQueue, type JobQueue } from '../jobs/job-queue.js';
import { createJobRepository } from '../jobs/job-repository.js';
import { type PublicChainConfig, publicChainConfig } from '../ocean/chain-config.js';
import type { ChainSetup } from '../ocean/chain-setup.js';
import { chainTxPolicy } from '../ocean/chain-tx-policy.js';
import { createGatewayOcean, type GatewayOcean } from '../ocean/gateway-ocean.js';
import { createJobOrderChecker, type JobOrderChecker } from '../ocean/job-order-check.js';

export type ServiceRole = 'gateway' | 'worker';

export interface ServiceDeps {
  config: Config;
  db: Db;
  /** Null only for the embedded gateway: an in-process queue and events then. */
  redis: Redis | null;
  log: FastifyBaseLogger;
  ledger?: Ledger;
  /** The gateway's chain, wallet keys included (never given to a worker). */
  chain?: ChainSetup | null;
  /** A worker's chain: public facts only, enough to check orders. */
  publicChain?: PublicChainConfig | null;
}

export interface Services {
  queue: JobQueue;
  events: JobEvents;
  ledger: Ledger;
  /** Publishing and ordering; the gateway's only, null with CHAIN=off. */
  ocean: GatewayOcean | null;
  /** Running consumers (a worker, or the embedded gateway); null where jobs do not run. */
  consumers: { close(): Promise<void> } | null;
  close(): Promise<void>;
}

export async function createServices(role: ServiceRole, deps: ServiceDeps): Promise<Services> {
  const { config, db, redis, log } = deps;
  if (role === 'worker' && !redis) throw new Error('a worker needs Redis');
  const runsJobs = role === 'worker' || config.worker.inProcess;
  const memoryQueue = redis ? null : createMemoryQueue(config.worker.concurrency, (err) => log.error({ err }, 'job handler error'));
  const queue = redis ? createBullmqQueue(redis, config.redisPrefix) : (memoryQueue as JobQueue);
  const events = redis ? createRedisJobEvents(redis, config.redisPrefix) : createMemoryJobEvents();
  const ledger = deps.ledger ?? createLedger({ db });
  const gatewayChain = role === 'gateway' ? (deps.chain ?? null) : null;
  const { confirmations, minPriorityFeeGwei, replaceAfterMs } = config.chain;
  const txOverrides = { confirmations, minPriorityFeeGwei, replaceAfterMs };
  const ocean = gatewayChain
    ? createGatewayOcean(gatewayChain.config, { poolSize: config.chain.orderPoolSize, refillConcurrency: config.chain.orderPoolRefillConcurrency, log, db, txPolicy: chainTxPolicy(gatewayChain.config.chainId, txOverrides) })
    : null;
  const checkOn = role === 'worker' ? (deps.publicChain ?? null) : gatewayChain ? publicChainConfig(gatewayChain.config) : null;
  const orders: JobOrderChecker | null =
    runsJobs && checkOn
      ? createJobOrderChecker(checkOn, {
          receiptWaitMs: config.chain.orderReceiptWaitMs,
          watchIntervalMs: config.chain.watchIntervalMs,
          confirmations: chainTxPolicy(checkOn.chainId, txOverrides).confirmations,
          countOtherJobs: createJobRepository(db).countOtherJobsOnOrders,
          onWatchError: (err) => log.warn({ err }, 'watching model NFTs failed; each job waits for a fresh read until it recovers'),
        })
      : null;
  const consumers = runsJobs ? await startConsumers({ config, db, ledger, events, queue, memoryQueue, log, orders }) : null;
  return {
    queue,
    events,
    ledger,
    ocean,
    consumers,
    async close() {
      await consumers?.close();
      orders?.close();
      await ocean?.close();
      await queue.close();
      await events.close();
    },
  };
}
