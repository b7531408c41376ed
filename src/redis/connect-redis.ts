// Opens a Redis connection with BullMQ's production settings and waits until it is ready.
import { Redis } from 'ioredis';

export interface RedisRole {
  /** Workers block on commands and must never give up on them (BullMQ requires null). */
  role: 'producer' | 'worker';
}

export async function connectRedis(url: string, { role }: RedisRole = { role: 'producer' }): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: role === 'worker' ? null : 2,
    // Producers fail fast while Redis is down instead of queueing commands in memory.
    enableOfflineQueue: role === 'worker',
    connectTimeout: 5000,
  });
  redis.on('error', () => {
    // ioredis reconnects by itself; commands report their own failures.
  });
  await redis.connect();
  return redis;
}
