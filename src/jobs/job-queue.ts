// Queues carry job ids to workers: BullMQ on Redis in production, an in-process queue in the
// embedded default. Postgres stays the source of truth; a lost or dead queue entry is re-queued.
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_CATALOG, type JobHandler, parseJobPayload, type QueueKind } from './job-catalog.js';

/** Where a job's current queue entry stands; `missing` when the queue holds none (e.g. Redis flushed). */
export type QueueEntryState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'missing';

export interface JobQueue {
  /** Adds the job's current entry; a no-op when that entry already exists (whatever its state). */
  enqueue(kind: QueueKind, jobId: string): Promise<void>;
  /**
   * Adds the job again under a fresh queue id (`<jobId>.<generation>`), superseding its current
   * entry (failed, completed or held by a dead worker); returns the new generation.
   */
  requeue(kind: QueueKind, jobId: string): Promise<number>;
  /** The state of the job's current entry and its generation (0 = the first entry, id = jobId). */
  stateOf(kind: QueueKind, jobId: string): Promise<{ state: QueueEntryState; generation: number }>;
  remove(kind: QueueKind, jobId: string): Promise<void>;
  /** Jobs waiting to start, all kinds. */
  depth(): Promise<number>;
  close(): Promise<void>;
}

export interface JobConsumer {
  close(): Promise<void>;
}

export { UnrecoverableError };

/** The BullMQ id of a job's entry: the job id, then `<jobId>.<n>` for the n-th re-queue (BullMQ forbids ':'). */
export const queueIdOf = (jobId: string, generation: number) => (generation === 0 ? jobId : `${jobId}.${generation}`);
const generationOf = (queueId: string) => {
  const dot = queueId.lastIndexOf('.');
  return dot < 0 ? 0 : Number(queueId.slice(dot + 1)) || 0;
};
/** Redis key naming a job's current queue id; absent = generation 0. Kept a week, well past any job. */
const currentKey = (prefix: string, jobId: string) => `${prefix}:job-queue-id:${jobId}`;
const CURRENT_TTL_SECONDS = 7 * 86_400;

export async function currentQueueId(redis: Redis, prefix: string, jobId: string): Promise<string> {
  return (await redis.get(currentKey(prefix, jobId))) ?? jobId;
}

export function createBullmqQueue(redis: Redis, prefix: string): JobQueue {
  const queues = new Map<QueueKind, Queue>();
  for (const [kind, spec] of Object.entries(JOB_CATALOG) as [QueueKind, (typeof JOB_CATALOG)[QueueKind]][]) {
    queues.set(kind, new Queue(spec.queue, { connection: redis, prefix: `${prefix}:bull` }));
  }
  const queueOf = (kind: QueueKind) => queues.get(kind)!;
  const add = async (kind: QueueKind, jobId: string, queueId: string) => {
    const spec = JOB_CATALOG[kind];
    // The queue id is BullMQ's id, so adding the same entry twice is a no-op.
    await queueOf(kind).add(kind, parseJobPayload({ jobId }), {
      jobId: queueId,
      attempts: spec.attempts,
      backoff: { type: 'exponential', delay: spec.backoffMs },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: false,
    });
  };
  return {
    async enqueue(kind, jobId) {
      await add(kind, jobId, await currentQueueId(redis, prefix, jobId));
    },
    async requeue(kind, jobId) {
      const previous = await currentQueueId(redis, prefix, jobId);
      const generation = generationOf(previous) + 1;
      const queueId = queueIdOf(jobId, generation);
      // Point at the new entry first: a delivery of the old one is then seen as superseded.
      await redis.set(currentKey(prefix, jobId), queueId, 'EX', CURRENT_TTL_SECONDS);
      await add(kind, jobId, queueId);
      // The old entry is kept while a (dead) worker's lock holds it; otherwise it goes.
      await queueOf(kind).remove(previous).catch(() => {});
      return generation;
    },
    async stateOf(kind, jobId) {
      const queueId = await currentQueueId(redis, prefix, jobId);
      const state = await queueOf(kind).getJobState(queueId);
      const mapped: QueueEntryState =
        state === 'unknown' ? 'missing' : state === 'active' || state === 'completed' || state === 'failed' || state === 'delayed' ? state : 'waiting';
      return { state: mapped, generation: generationOf(queueId) };
    },
    async remove(kind, jobId) {
      await queueOf(kind).remove(await currentQueueId(redis, prefix, jobId));
    },
    async depth() {
      const counts = await Promise.all([...queues.values()].map((q) => q.getJobCountByTypes('waiting', 'prioritized', 'delayed')));
      return counts.reduce((a, b) => a + b, 0);
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

export interface ConsumerOptions {
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

export interface ConsumerEvents {
  onError: (err: unknown, kind: QueueKind) => void;
  /** A delivery of an entry the job has moved on from (re-queued under a fresh id): dropped, not run. */
  onSuperseded: (jobId: string, queueId: string, current: string) => void;
}

/** BullMQ workers for every kind of the catalog (worker role only). */
export function startBullmqConsumers(
  redis: Redis,
  prefix: string,
  handlers: Record<QueueKind, JobHandler>,
  options: ConsumerOptions,
  events: ConsumerEvents,
): JobConsumer & { running(): boolean; restart(): void } {
  const workers = (Object.keys(JOB_CATALOG) as QueueKind[]).map((kind) => {
    const spec = JOB_CATALOG[kind];
    const worker = new Worker(
      spec.queue,
      async (job) => {
        // The queue id maps back to the job row through the payload; a superseded entry is not run.
        const { jobId } = parseJobPayload(job.data);
        const current = await currentQueueId(redis, prefix, jobId);
        if (job.id !== current) {
          events.onSuperseded(jobId, String(job.id), current);
          return;
        }
        const attempt = job.attemptsMade + 1;
        await handlers[kind](jobId, { attempt, finalAttempt: attempt >= spec.attempts });
      },
      {
        connection: redis,
        prefix: `${prefix}:bull`,
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        maxStalledCount: options.maxStalledCount,
        // After a Redis outage, fetch again within a second (BullMQ's default waits 15 s).
        runRetryDelay: 1000,
      },
    );
    worker.on('error', (err) => events.onError(err, kind));
    return worker;
  });
  let closing = false;
  return {
    running: () => workers.every((w) => w.isRunning()),
    /** Starts again any worker whose loop ended while this consumer was not closing. */
    restart() {
      if (closing) return;
      for (const [i, w] of workers.entries()) {
        if (w.isRunning() || w.closing) continue;
        w.run().catch((err) => events.onError(err, Object.keys(JOB_CATALOG)[i] as QueueKind));
      }
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/** The embedded default's queue: runs handlers in this process with bounded concurrency and retries. */
export function createMemoryQueue(concurrency: number, onError: (err: unknown, kind: QueueKind) => void) {
  const waiting: { kind: QueueKind; jobId: string; attempt: number }[] = [];
  const known = new Set<string>();
  const activeIds = new Set<string>();
  let running = 0;
  let handlers: Record<QueueKind, JobHandler> | null = null;
  let closed = false;
  const active = new Set<Promise<void>>();

  const pump = () => {
    while (handlers && !closed && running < concurrency && waiting.length) {
      const item = waiting.shift()!;
      running++;
      activeIds.add(item.jobId);
      const spec = JOB_CATALOG[item.kind];
      const run = handlers[item.kind](item.jobId, { attempt: item.attempt, finalAttempt: item.attempt >= spec.attempts })
        .then(
          () => {
            known.delete(item.jobId);
          },
          (err) => {
            onError(err, item.kind);
            if (item.attempt < spec.attempts && !(err instanceof UnrecoverableError)) {
              setTimeout(() => {
                waiting.push({ ...item, attempt: item.attempt + 1 });
                pump();
              }, spec.backoffMs * 2 ** (item.attempt - 1)).unref();
            } else {
              known.delete(item.jobId);
            }
          },
        )
        .finally(() => {
          running--;
          activeIds.delete(item.jobId);
          active.delete(run);
          pump();
        });
      active.add(run);
    }
  };

  const queue: JobQueue & { consume(h: Record<QueueKind, JobHandler>): JobConsumer } = {
    async enqueue(kind, jobId) {
      parseJobPayload({ jobId });
      if (known.has(jobId)) return;
      known.add(jobId);
      waiting.push({ kind, jobId, attempt: 1 });
      queueMicrotask(pump);
    },
    async requeue(kind, jobId) {
      // In one process nothing is held by a dead worker: a job not known here is simply added.
      await queue.enqueue(kind, jobId);
      return 0;
    },
    async stateOf(_kind, jobId) {
      return { state: activeIds.has(jobId) ? 'active' : known.has(jobId) ? 'waiting' : 'missing', generation: 0 };
    },
    async remove(_kind, jobId) {
      const i = waiting.findIndex((w) => w.jobId === jobId);
      if (i >= 0) waiting.splice(i, 1);
      known.delete(jobId);
    },
    async depth() {
      return waiting.length;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...active]);
    },
    consume(h) {
      handlers = h;
      pump();
      return { close: () => queue.close() };
    },
  };
  return queue;
}
