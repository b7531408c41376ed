// The queue of jobs served by Ocean compute nodes. It is consumed in the gateway, never by the
// marketplace's workers: the gateway holds the consumer wallet that pays the node. BullMQ on Redis
// (its own queue name, outside the job catalog the workers consume), or in-process without Redis.
// A sweep re-adds the entry of any unfinished job that lost it (Redis flushed, enqueue failed).
import { Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { parseJobPayload } from '../jobs/job-catalog.js';

export const OCEAN_NODE_QUEUE = 'ocean-node';
/** Attempts before a job fails for good; only a node that is down or answers 5xx is retried. */
export const OCEAN_NODE_ATTEMPTS = 3;
const BACKOFF_MS = 1000;
/** Jobs one gateway drives at once (each mostly waits on the node). */
export const OCEAN_NODE_CONCURRENCY = 8;

export type OceanNodeHandler = (jobId: string, ctx: { finalAttempt: boolean }) => Promise<void>;

export interface OceanNodeQueue {
  enqueue(jobId: string): Promise<void>;
  close(): Promise<void>;
}

/** Unfinished jobs of models served by an Ocean compute node (ordered first when the chain is on). */
async function unfinishedNodeJobs(db: Db, olderThanMs: number): Promise<string[]> {
  const rows = (await db.execute(sql`
    SELECT j.id FROM jobs j JOIN models m ON m.id = j.model_id
    WHERE j.status IN ('queued', 'running') AND m.compute_backend = 'ocean-node'
      AND j.order_tx_hash IS NOT NULL AND j.created_at < now() - ${olderThanMs} * interval '1 millisecond'
    LIMIT 500`)) as unknown as { rows: { id: string }[] };
  return rows.rows.map((r) => r.id);
}

export function startOceanNodeQueue(deps: {
  redis: Redis | null;
  prefix: string;
  db: Db;
  log: FastifyBaseLogger;
  handler: OceanNodeHandler;
  concurrency?: number;
  sweepIntervalMs?: number;
}): OceanNodeQueue {
  const { log, handler } = deps;
  let enqueue: (jobId: string) => Promise<void>;
  let stateOf: (jobId: string) => Promise<string>;
  let closeQueue: () => Promise<void>;
  if (deps.redis) {
    const connection = deps.redis.duplicate({ maxRetriesPerRequest: null });
    const queue = new Queue(OCEAN_NODE_QUEUE, { connection: deps.redis, prefix: `${deps.prefix}:bull` });
    const worker = new Worker(
      OCEAN_NODE_QUEUE,
      async (entry) => {
        const { jobId } = parseJobPayload(entry.data);
        await handler(jobId, { finalAttempt: entry.attemptsMade + 1 >= OCEAN_NODE_ATTEMPTS });
      },
      { connection, prefix: `${deps.prefix}:bull`, concurrency: deps.concurrency ?? OCEAN_NODE_CONCURRENCY, runRetryDelay: 1000 },
    );
    worker.on('error', (err) => log.error({ err }, 'ocean-node queue consumer error'));
    enqueue = async (jobId) => {
      await queue.add(OCEAN_NODE_QUEUE, parseJobPayload({ jobId }), {
        jobId,
        attempts: OCEAN_NODE_ATTEMPTS,
        backoff: { type: 'exponential', delay: BACKOFF_MS },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: false,
      });
    };
    stateOf = (jobId) => queue.getJobState(jobId);
    closeQueue = async () => {
      await worker.close();
      await queue.close();
      await connection.quit().catch(() => {});
    };
  } else {
    const known = new Set<string>();
    const active = new Set<Promise<void>>();
    let closed = false;
    const attempt = (jobId: string, n: number): void => {
      if (closed) return;
      const run = handler(jobId, { finalAttempt: n >= OCEAN_NODE_ATTEMPTS }).then(
        () => known.delete(jobId),
        (err) => {
          log.warn({ err, jobId, attempt: n }, 'ocean-node job attempt failed');
          if (n >= OCEAN_NODE_ATTEMPTS) return known.delete(jobId);
          setTimeout(() => attempt(jobId, n + 1), BACKOFF_MS * 2 ** (n - 1)).unref();
        },
      );
      const tracked = run.then(() => undefined).finally(() => active.delete(tracked));
      active.add(tracked);
    };
    enqueue = async (jobId) => {
      parseJobPayload({ jobId });
      if (known.has(jobId)) return;
      known.add(jobId);
      queueMicrotask(() => attempt(jobId, 1));
    };
    stateOf = async (jobId) => (known.has(jobId) ? 'waiting' : 'unknown');
    closeQueue = async () => {
      closed = true;
      await Promise.allSettled([...active]);
    };
  }

  const sweep = async () => {
    for (const jobId of await unfinishedNodeJobs(deps.db, 10_000)) {
      if ((await stateOf(jobId)) !== 'unknown') continue;
      log.warn({ jobId }, 'ocean-node job had no queue entry; enqueued');
      await enqueue(jobId);
    }
  };
  const timer = setInterval(() => {
    sweep().catch((err) => log.warn({ err }, 'ocean-node queue sweep failed; trying again'));
  }, deps.sweepIntervalMs ?? 30_000);
  timer.unref();

  return {
    enqueue,
    async close() {
      clearInterval(timer);
      await closeQueue();
    },
  };
}
