// Queues carry job ids to workers: BullMQ on Redis in production, an in-process queue in the
// embedded default. Postgres stays the source of truth; a lost queue entry is re-enqueued.
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_CATALOG, type JobHandler, parseJobPayload, type QueueKind } from './job-catalog.js';

export interface JobQueue {
  enqueue(kind: QueueKind, jobId: string): Promise<void>;
  remove(kind: QueueKind, jobId: string): Promise<void>;
  /** Jobs waiting to start, all kinds. */
  depth(): Promise<number>;
  close(): Promise<void>;
}

export interface JobConsumer {
  close(): Promise<void>;
}

export { UnrecoverableError };

export function createBullmqQueue(redis: Redis, prefix: string): JobQueue {
  const queues = new Map<QueueKind, Queue>();
  for (const [kind, spec] of Object.entries(JOB_CATALOG) as [QueueKind, (typeof JOB_CATALOG)[QueueKind]][]) {
    queues.set(kind, new Queue(spec.queue, { connection: redis, prefix: `${prefix}:bull` }));
  }
  const queueOf = (kind: QueueKind) => queues.get(kind)!;
  return {
    async enqueue(kind, jobId) {
      const spec = JOB_CATALOG[kind];
      // jobId doubles as BullMQ's id, so enqueuing the same job twice is a no-op.
      await queueOf(kind).add(kind, parseJobPayload({ jobId }), {
        jobId,
        attempts: spec.attempts,
        backoff: { type: 'exponential', delay: spec.backoffMs },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: false,
      });
    },
    async remove(kind, jobId) {
      await queueOf(kind).remove(jobId);
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
}

/** BullMQ workers for every kind of the catalog (worker role only). */
export function startBullmqConsumers(
  redis: Redis,
  prefix: string,
  handlers: Record<QueueKind, JobHandler>,
  options: ConsumerOptions,
  onError: (err: unknown, kind: QueueKind) => void,
): JobConsumer {
  const workers = (Object.keys(JOB_CATALOG) as QueueKind[]).map((kind) => {
    const spec = JOB_CATALOG[kind];
    const worker = new Worker(
      spec.queue,
      async (job) => {
        const { jobId } = parseJobPayload(job.data);
        const attempt = job.attemptsMade + 1;
        await handlers[kind](jobId, { attempt, finalAttempt: attempt >= spec.attempts });
      },
      {
        connection: redis,
        prefix: `${prefix}:bull`,
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        maxStalledCount: 3,
      },
    );
    worker.on('error', (err) => onError(err, kind));
    return worker;
  });
  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/** The embedded default's queue: runs handlers in this process with bounded concurrency and retries. */
export function createMemoryQueue(concurrency: number, onError: (err: unknown, kind: QueueKind) => void) {
  const waiting: { kind: QueueKind; jobId: string; attempt: number }[] = [];
  const known = new Set<string>();
  let running = 0;
  let handlers: Record<QueueKind, JobHandler> | null = null;
  let closed = false;
  const active = new Set<Promise<void>>();

  const pump = () => {
    while (handlers && !closed && running < concurrency && waiting.length) {
      const item = waiting.shift()!;
      running++;
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
