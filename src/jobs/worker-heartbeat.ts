// Worker liveness in Redis: each worker renews its entry in one sorted set per queue (score = when
// it expires, by Redis's clock so hosts' clocks never disagree). The gateway counts live workers per
// queue (/readyz, /metrics, refusing jobs nobody would run); the watchdog re-queues the jobs of a
// worker whose entry expired.
import type { Redis } from 'ioredis';
import { JOB_CATALOG, type QueueKind } from './job-catalog.js';

const ALL = '*';
const setKey = (prefix: string, queue: string) => `${prefix}:workers:${queue}`;

const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + tonumber(ARGV[1]), ARGV[2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  redis.call('PEXPIRE', key, tonumber(ARGV[1]) * 10)
end
return now`;

const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf') end
return out`;

const ALIVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then return 1 end
return 0`;

export const queuesOfCatalog = () => Object.values(JOB_CATALOG).map((s) => s.queue);

export interface WorkerHeartbeat {
  /** Removes this worker's entries at once (graceful shutdown), so it stops counting as alive. */
  stop(): Promise<void>;
}

/** Renews this worker's entry every `intervalMs`; it expires `3 × intervalMs` after the last renewal. */
export function startWorkerHeartbeat(
  redis: Redis,
  prefix: string,
  workerId: string,
  options: { intervalMs: number; queues?: string[]; onError?: (err: unknown) => void },
): WorkerHeartbeat & { beat(): Promise<void> } {
  const keys = [...(options.queues ?? queuesOfCatalog()), ALL].map((q) => setKey(prefix, q));
  const ttl = options.intervalMs * 3;
  const beat = async () => {
    await redis.eval(BEAT, keys.length, ...keys, ttl, workerId);
  };
  const timer = setInterval(() => beat().catch((err) => options.onError?.(err)), options.intervalMs);
  timer.unref();
  return {
    beat,
    async stop() {
      clearInterval(timer);
      await Promise.all(keys.map((k) => redis.zrem(k, workerId))).catch(() => {});
    },
  };
}

/** Live workers per queue name (every queue of the catalog). */
export async function countLiveWorkers(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const queues = queuesOfCatalog();
  const counts = (await redis.eval(COUNT, queues.length, ...queues.map((q) => setKey(prefix, q)))) as number[];
  return Object.fromEntries(queues.map((q, i) => [q, Number(counts[i])]));
}

export async function isWorkerAlive(redis: Redis, prefix: string, workerId: string): Promise<boolean> {
  return (await redis.eval(ALIVE, 1, setKey(prefix, ALL), workerId)) === 1;
}

export const queueOfKind = (kind: QueueKind) => JOB_CATALOG[kind].queue;
