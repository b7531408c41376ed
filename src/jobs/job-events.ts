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

export interface SubscribeOptions {
  /**
   * This listener wants `token` events. Workers publish tokens only while some listener of the job
   * asked for them (a stream): a job nobody streams costs no per-token messages.
   */
  tokens?: boolean;
}

export interface JobEvents {
  publish(jobId: string, event: JobEvent): Promise<void>;
  /** Resolves once the subscription is live, so no event published afterwards is missed. */
  subscribe(jobId: string, listener: JobEventListener, options?: SubscribeOptions): Promise<() => Promise<void>>;
  /** Whether any listener, in any process, asked for this job's tokens. */
  tokensWanted(jobId: string): Promise<boolean>;
  close(): Promise<void>;
}

export function createMemoryJobEvents(): JobEvents {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const streams = new Map<string, number>();
  return {
    async publish(jobId, event) {
      emitter.emit(jobId, event);
    },
    async subscribe(jobId, listener, options) {
      emitter.on(jobId, listener);
      if (options?.tokens) streams.set(jobId, (streams.get(jobId) ?? 0) + 1);
      return async () => {
        emitter.off(jobId, listener);
        if (!options?.tokens) return;
        const left = (streams.get(jobId) ?? 1) - 1;
        if (left > 0) streams.set(jobId, left);
        else streams.delete(jobId);
      };
    },
    async tokensWanted(jobId) {
      return streams.has(jobId);
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
  // A stream also joins this channel; nothing is published on it: its subscriber count (PUBSUB
  // NUMSUB, across every process) tells workers whether to send tokens.
  const streamChannel = (jobId: string) => `${prefix}:job-streams:${jobId}`;
  const streamListeners = new Map<string, number>();
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
    async subscribe(jobId, listener, options) {
      let set = listeners.get(jobId);
      if (!set) {
        set = new Set();
        listeners.set(jobId, set);
        await subscriber.subscribe(channel(jobId));
      }
      set.add(listener);
      if (options?.tokens) {
        const count = streamListeners.get(jobId) ?? 0;
        streamListeners.set(jobId, count + 1);
        if (count === 0) await subscriber.subscribe(streamChannel(jobId));
      }
      return async () => {
        if (options?.tokens) {
          const left = (streamListeners.get(jobId) ?? 1) - 1;
          if (left > 0) streamListeners.set(jobId, left);
          else {
            streamListeners.delete(jobId);
            await subscriber.unsubscribe(streamChannel(jobId)).catch(() => {});
          }
        }
        const s = listeners.get(jobId);
        if (!s) return;
        s.delete(listener);
        if (s.size === 0) {
          listeners.delete(jobId);
          await subscriber.unsubscribe(channel(jobId)).catch(() => {});
        }
      };
    },
    async tokensWanted(jobId) {
      const reply = (await publisher.pubsub('NUMSUB', streamChannel(jobId))) as [string, number | string];
      return Number(reply[1]) > 0;
    },
    async close() {
      listeners.clear();
      subscriber.disconnect();
    },
  };
}
