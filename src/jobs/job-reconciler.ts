// Postgres is the source of truth: jobs committed there but missing from the queue (Redis flushed
// or restarted, an enqueue that failed after commit) are enqueued again. Enqueueing is idempotent.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import type { JobQueue } from './job-queue.js';
import { createJobRepository } from './job-repository.js';

export async function reenqueueUnfinished(db: Db, queue: JobQueue, olderThanMs = 0, requireOrder = false): Promise<number> {
  // With ordering on, a job without its order is the gateway's to finish (it orders, then enqueues).
  const rows = await createJobRepository(db).listUnfinished(olderThanMs, requireOrder ? true : undefined);
  for (const row of rows) await queue.enqueue(row.kind, row.id);
  return rows.length;
}

/**
 * Re-enqueues every unfinished job at start, then periodically those older than the interval
 * (younger ones may still be on their way into the queue; adding them twice would be harmless anyway).
 */
export function startReconciler(db: Db, queue: JobQueue, log: FastifyBaseLogger, requireOrder: boolean, intervalMs = 30_000) {
  const tick = async (olderThanMs: number) => {
    try {
      const n = await reenqueueUnfinished(db, queue, olderThanMs, requireOrder);
      if (n) log.info({ jobs: n }, 'reconciler re-enqueued unfinished jobs');
    } catch (err) {
      log.warn({ err }, 'reconciler pass failed');
    }
  };
  const timer = setInterval(() => tick(intervalMs), intervalMs);
  timer.unref();
  return { first: tick(0), stop: () => clearInterval(timer) };
}
