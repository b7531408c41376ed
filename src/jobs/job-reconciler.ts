// The watchdog: Postgres is the source of truth for every job, the queue only carries it. Each pass
// compares unfinished jobs with their queue entries and repairs what disagrees: a missing entry
// (Redis flushed or restarted, an enqueue that failed after commit) is added again; a failed or
// completed entry, or one held by a worker whose heartbeat expired, is replaced by a fresh entry
// (`<jobId>.<n>`), at most `maxRequeues` times, then the job fails with its hold released; a job
// whose cancel no worker will act on is cancelled here. Replay audits committed `queued` without a
// queue entry (an enqueue lost to a crash or a Redis outage) are enqueued again, so none stays queued
// forever. One worker leads the passes at a time.
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Ledger } from '../credits/credit-ledger.js';
import type { Db } from '../db/database.js';
import type { JobEvents } from './job-events.js';
import type { JobQueue } from './job-queue.js';
import { publicJobError } from './job-errors.js';
import { createJobRepository, type JobRow } from './job-repository.js';
import type { JobKind, JobStatus } from './jobs-schema.js';
import { isWorkerAlive } from './worker-heartbeat.js';
import { listQueuedAudits } from '../audits/audit-service.js';

/**
 * Ends an unfinished job (queued or running) as failed or cancelled, charging nothing: its hold is
 * released in the same transaction, exactly once (a job already final is left as it is).
 */
export async function endUnfinishedJob(
  deps: { db: Db; ledger: Ledger; events: JobEvents; queue: JobQueue },
  job: Pick<JobRow, 'id' | 'kind'>,
  status: Extract<JobStatus, 'failed' | 'cancelled'>,
  error?: { code: string; message: string },
): Promise<JobRow | undefined> {
  const ended = await deps.db.transaction(async (tx) => {
    const row = await createJobRepository(tx).finish(job.id, ['queued', 'running'], { status, error: error ? publicJobError(error.code, error.message) : null, cost: 0n });
    if (row?.holdId) await deps.ledger.release(row.holdId, tx);
    return row;
  });
  if (ended) {
    await deps.events.publish(job.id, { type: 'done', status }).catch(() => {});
    // An entry still locked by a dead worker cannot be removed; delivered later, it finds the job final.
    await deps.queue.remove(job.kind as JobKind, job.id).catch(() => {});
  }
  return ended;
}

/** Who may run a pass, and which workers are alive. */
export interface WatchdogCoordination {
  lead(): Promise<boolean>;
  isWorkerAlive(workerId: string): Promise<boolean>;
}

const LEAD = `
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/** Coordination through Redis: a lease renewed by the leading worker, and the heartbeat sets. */
export function redisCoordination(redis: Redis, prefix: string, workerId: string, leaseMs: number): WatchdogCoordination {
  return {
    lead: async () => (await redis.eval(LEAD, 1, `${prefix}:watchdog-leader`, workerId, leaseMs)) === 1,
    isWorkerAlive: (id) => isWorkerAlive(redis, prefix, id),
  };
}

/** One process, one worker: it always leads, and only it is alive. */
export function localCoordination(workerId: string): WatchdogCoordination {
  return { lead: async () => true, isWorkerAlive: async (id) => id === workerId };
}

export interface WatchdogDeps {
  db: Db;
  ledger: Ledger;
  events: JobEvents;
  queue: JobQueue;
  log: FastifyBaseLogger;
  coordination: WatchdogCoordination;
  /** With ordering on, a job without its order is the gateway's to finish (it orders, then enqueues). */
  requireOrder: boolean;
  maxRequeues: number;
  intervalMs: number;
  /** How old a queued audit must be before a missing queue entry counts as lost (its enqueue follows its commit). Default 5 s. */
  auditGraceMs?: number;
}

export interface PassResult {
  enqueued: number;
  requeued: number;
  ended: number;
  /** Queued audits that had no queue entry and were enqueued. */
  auditsEnqueued: number;
}

export async function runWatchdogPass(deps: WatchdogDeps): Promise<PassResult> {
  const repo = createJobRepository(deps.db);
  const result: PassResult = { enqueued: 0, requeued: 0, ended: 0, auditsEnqueued: 0 };
  const alive = new Map<string, Promise<boolean>>();
  const workerAlive = (id: string) => {
    let known = alive.get(id);
    if (!known) {
      known = deps.coordination.isWorkerAlive(id);
      alive.set(id, known);
    }
    return known;
  };
  for (const row of await repo.listUnfinishedForWatchdog()) {
    if (deps.requireOrder && !row.orderTxHash) continue;
    const kind = row.kind as JobKind;
    const log = deps.log.child({ jobId: row.id, kind });
    const { state, generation } = await deps.queue.stateOf(kind, row.id);
    // Read after the queue: a worker that picked the entry up meanwhile has claimed the row by now.
    const latest = state === 'waiting' || state === 'delayed' ? row : await repo.find(row.id);
    if (!latest || latest.status === 'succeeded' || latest.status === 'failed' || latest.status === 'cancelled') continue;
    const workerDead = latest.status === 'running' && latest.workerId !== null && !(await workerAlive(latest.workerId));
    if (latest.cancelRequestedAt && (state !== 'active' || workerDead)) {
      // Nobody is running it to act on the cancel: cancel it here.
      if (await endUnfinishedJob(deps, row, 'cancelled')) result.ended++;
      continue;
    }
    if (state === 'waiting' || state === 'delayed' || (state === 'active' && !workerDead)) continue;
    if (state === 'missing') {
      await deps.queue.enqueue(kind, row.id);
      result.enqueued++;
      continue;
    }
    // failed, completed, or held by a dead worker: the entry will not finish the job.
    const why = state === 'active' ? `its worker ${latest.workerId} stopped heartbeating` : `its queue entry is ${state}`;
    if (generation >= deps.maxRequeues) {
      log.error({ generation, attempts: row.attempts }, `job failed: ${why} after ${generation} re-queue(s); hold released`);
      const ended = await endUnfinishedJob(deps, row, 'failed', {
        code: 'worker_lost',
        message: `the job could not be completed: ${why} after ${generation} re-queue(s)`,
      });
      if (ended) result.ended++;
      continue;
    }
    const next = await deps.queue.requeue(kind, row.id);
    log.warn({ generation: next, attempts: row.attempts }, `job re-queued under a fresh id: ${why}`);
    result.requeued++;
  }
  for (const audit of await listQueuedAudits(deps.db, deps.auditGraceMs ?? 5_000)) {
    if ((await deps.queue.stateOf('audit', audit.id)).state !== 'missing') continue;
    await deps.queue.enqueue('audit', audit.id);
    deps.log.warn({ auditId: audit.id }, 'audit was queued without a queue entry; enqueued');
    result.auditsEnqueued++;
  }
  return result;
}

/**
 * Runs a pass at start, then every `intervalMs` and whenever `kick()` is called (e.g. when Redis
 * comes back, possibly empty). Passes never overlap; a failed pass is logged and tried again.
 */
export function startReconciler(deps: WatchdogDeps) {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const tick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        if (!(await deps.coordination.lead())) return;
        const r = await runWatchdogPass(deps);
        if (r.enqueued || r.requeued || r.ended || r.auditsEnqueued) deps.log.info(r, 'watchdog repaired unfinished jobs');
      } catch (err) {
        deps.log.warn({ err }, 'watchdog pass failed; trying again');
      } finally {
        running = null;
        if (again && !stopped) {
          again = false;
          void tick();
        }
      }
    })();
    return running;
  };
  const timer = setInterval(tick, deps.intervalMs);
  timer.unref();
  return {
    first: tick(),
    kick: () => void tick(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
