// Starts the queue consumers of a worker (its own process, or inside the gateway in the embedded
// default): engines, the runner, the consumers and the reconciler, with one close() for shutdown.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import type { Ledger } from '../credits/credit-ledger.js';
import type { Db } from '../db/database.js';
import { connectRedis } from '../redis/connect-redis.js';
import { createEngineRegistry } from './engine-registry.js';
import { assertHandlers } from './job-catalog.js';
import type { JobEvents } from './job-events.js';
import { type createMemoryQueue, type JobQueue, startBullmqConsumers } from './job-queue.js';
import { startReconciler } from './job-reconciler.js';
import { createJobRunner } from './job-runner.js';
import type { JobOrderChecker } from '../ocean/job-order-check.js';
import { createWorkerReceipts } from '../receipts/worker-receipts.js';
import { createAuditHandler } from '../audits/audit-runner.js';

export interface ConsumerDeps {
  config: Config;
  db: Db;
  ledger: Ledger;
  events: JobEvents;
  queue: JobQueue;
  /** Set in the embedded default (no Redis): handlers run on this in-process queue. */
  memoryQueue: ReturnType<typeof createMemoryQueue> | null;
  log: FastifyBaseLogger;
  /** Validates Ocean orders before running; null when the chain is off. */
  orders: JobOrderChecker | null;
}

export async function startConsumers(deps: ConsumerDeps) {
  const { config } = deps;
  const engines = createEngineRegistry({
    threads: config.worker.threads,
    batchMax: config.worker.batchMax,
    batchWaitMs: config.worker.batchWaitMs,
    faultServeModelDir: config.worker.faultServeModelDir,
  });
  const receipts = config.receipts.enabled
    ? await createWorkerReceipts({ db: deps.db, dataDir: config.dataDir, workerId: config.worker.id })
    : null;
  const handlers = assertHandlers({
    ...createJobRunner({
      db: deps.db,
      ledger: deps.ledger,
      events: deps.events,
      engines,
      workerId: config.worker.id,
      log: deps.log,
      faultStartDelayMs: config.worker.faultStartDelayMs,
      orders: deps.orders,
      receipts,
      audits: { fraction: config.worker.auditFraction, queue: deps.queue },
    }),
    audit: createAuditHandler({ db: deps.db, engines, workerId: config.worker.id, log: deps.log }),
  });
  let consumer: { close(): Promise<void> };
  let workerRedis: Awaited<ReturnType<typeof connectRedis>> | null = null;
  if (deps.memoryQueue) {
    consumer = deps.memoryQueue.consume(handlers);
  } else {
    if (!config.redisUrl) throw new Error('BullMQ consumers need REDIS_URL');
    workerRedis = await connectRedis(config.redisUrl, { role: 'worker' });
    consumer = startBullmqConsumers(
      workerRedis,
      config.redisPrefix,
      handlers,
      {
        concurrency: config.worker.concurrency,
        lockDurationMs: config.worker.lockDurationMs,
        stalledIntervalMs: config.worker.stalledIntervalMs,
      },
      (err, kind) => deps.log.error({ err, kind }, 'queue consumer error'),
    );
  }
  const reconciler = startReconciler(deps.db, deps.queue, deps.log, deps.orders !== null);
  await reconciler.first;
  return {
    async close() {
      reconciler.stop();
      await consumer.close();
      await engines.close();
      await workerRedis?.quit().catch(() => {});
    },
  };
}
