// Starts the queue consumers of a worker (its own process, or inside the gateway in the embedded
// default): engines, the runner, the consumers, the heartbeat and the watchdog, with one close().
// The consumers are supervised: a BullMQ worker whose loop ended is started again.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import type { Ledger } from '../credits/credit-ledger.js';
import type { Db } from '../db/database.js';
import { connectRedis } from '../redis/connect-redis.js';
import { createEngineRegistry } from './engine-registry.js';
import { assertHandlers } from './job-catalog.js';
import type { JobEvents } from './job-events.js';
import { type createMemoryQueue, type JobQueue, startBullmqConsumers } from './job-queue.js';
import { localCoordination, redisCoordination, startReconciler } from './job-reconciler.js';
import { startWorkerHeartbeat, type WorkerHeartbeat } from './worker-heartbeat.js';
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
      feeBps: config.marketplaceFeeBps,
      dataDir: config.dataDir,
      trainingThreads: config.worker.threads,
    }),
    audit: createAuditHandler({ db: deps.db, engines, workerId: config.worker.id, log: deps.log, dataDir: config.dataDir, threads: config.worker.threads }),
  });
  let consumer: { close(): Promise<void> };
  let workerRedis: Awaited<ReturnType<typeof connectRedis>> | null = null;
  let heartbeat: WorkerHeartbeat | null = null;
  let supervisor: NodeJS.Timeout | null = null;
  const watchdogDeps = {
    db: deps.db,
    ledger: deps.ledger,
    events: deps.events,
    queue: deps.queue,
    log: deps.log,
    requireOrder: deps.orders !== null,
    maxRequeues: config.worker.maxRequeues,
    intervalMs: config.worker.watchdogIntervalMs,
  };
  let reconciler: ReturnType<typeof startReconciler>;
  if (deps.memoryQueue) {
    consumer = deps.memoryQueue.consume(handlers);
    reconciler = startReconciler({ ...watchdogDeps, coordination: localCoordination(config.worker.id) });
  } else {
    if (!config.redisUrl) throw new Error('BullMQ consumers need REDIS_URL');
    const redis = await connectRedis(config.redisUrl, { role: 'worker' });
    workerRedis = redis;
    const bullmq = startBullmqConsumers(
      redis,
      config.redisPrefix,
      handlers,
      {
        concurrency: config.worker.concurrency,
        lockDurationMs: config.worker.lockDurationMs,
        stalledIntervalMs: config.worker.stalledIntervalMs,
        maxStalledCount: config.worker.maxStalledCount,
      },
      {
        onError: (err, kind) => deps.log.error({ err, kind }, 'queue consumer error'),
        onSuperseded: (jobId, queueId, current) =>
          deps.log.info({ jobId, queueId, current }, 'dropped a superseded queue entry (the job was re-queued)'),
      },
    );
    consumer = bullmq;
    const hb = startWorkerHeartbeat(redis, config.redisPrefix, config.worker.id, {
      intervalMs: config.worker.heartbeatMs,
      onError: (err) => deps.log.warn({ err }, 'worker heartbeat failed; retrying'),
    });
    heartbeat = hb;
    await hb.beat().catch((err) => deps.log.warn({ err }, 'first worker heartbeat failed; retrying'));
    reconciler = startReconciler({
      ...watchdogDeps,
      coordination: redisCoordination(redis, config.redisPrefix, config.worker.id, config.worker.watchdogIntervalMs * 3),
    });
    // Redis back (perhaps empty, after a restart): heartbeat and repair the queue now, not at the next tick.
    let connectedOnce = redis.status === 'ready';
    redis.on('ready', () => {
      if (!connectedOnce) {
        connectedOnce = true;
        return;
      }
      deps.log.info('Redis connection is back: re-registering and reconciling the queue');
      hb.beat().catch(() => {});
      reconciler.kick();
      bullmq.restart();
    });
    supervisor = setInterval(() => {
      if (!bullmq.running()) {
        deps.log.warn('a queue consumer stopped; starting it again');
        bullmq.restart();
      }
    }, 5_000);
    supervisor.unref();
  }
  await reconciler.first;
  return {
    async close() {
      if (supervisor) clearInterval(supervisor);
      await reconciler.stop();
      // Alive until its jobs are done: the watchdog must not re-queue jobs this worker is finishing.
      await consumer.close();
      await heartbeat?.stop();
      await engines.close();
      await workerRedis?.quit().catch(() => {});
    },
  };
}
