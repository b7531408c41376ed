// Per-job event fan-out (tokens, status, cancel): Redis pub/sub across processes, or in-process.
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';

export type JobEvent =
  | { type: 'token'; text: string; index: number; attempt: number }
  | { type: 'status'; status: string }
  | { type: 'progress'; step: number; steps: number; loss: number; tokens_per_second: number }
  | { type: 'done'; status: string }
  | { type: 'cancel' };

export type JobEventListener = (event: JobEvent) => void;

export interface JobEvents {
  publish(jobId: string, event: JobEvent): Promise<void>;
  /** Resolves once the subscription is live, so no event published afterwards is missed. */
  subscribe(jobId: string, listener: JobEventListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function createMemoryJobEvents(): JobEvents {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(jobId, event) {
      emitter.emit(jobId, event);
    },
    async subscribe(jobId, listener) {
      emitter.on(jobId, listener);
      return async () => {
        emitter.off(jobId, listener);
      };
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/**
 * One subscriber connection per process multiplexes every job channel; channels are joined on the
 * first listener and left on the last.
 */
export function createRedisJobEvents(publisher: Redis, prefix: string): JobEvents {
  const subscriber = publisher.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  subscriber.on('error', () => {});
  const listeners = new Map<string, Set<JobEventListener>>();
  const channel = (jobId: string) => `${prefix}:job-events:${jobId}`;
  const channelPrefix = `${prefix}:job-events:`;
  subscriber.on('message', (ch: string, message: string) => {
    const set = listeners.get(ch.slice(channelPrefix.length));
    if (!set) return;
    const event = JSON.parse(message) as JobEvent;
    for (const l of set) l(event);
  });
  return {
    async publish(jobId, event) {
      await publisher.publish(channel(jobId), JSON.stringify(event));
    },
    async subscribe(jobId, listener) {
      let set = listeners.get(jobId);
      if (!set) {
        set = new Set();
        listeners.set(jobId, set);
        await subscriber.subscribe(channel(jobId));
      }
      set.add(listener);
      return async () => {
        const s = listeners.get(jobId);
        if (!s) return;
        s.delete(listener);
        if (s.size === 0) {
          listeners.delete(jobId);
          await subscriber.unsubscribe(channel(jobId)).catch(() => {});
        }
      };
    },
    async close() {
      listeners.clear();
      subscriber.disconnect();
    },
  };
}
