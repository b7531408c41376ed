// Fixed-window request counters: atomic in Redis so every replica shares one limit, or in memory
// for the single-process embedded default.
import type { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  count: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
}

export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateDecision>;
}

// INCR and the first PEXPIRE run as one script, so a crash between them cannot leave a counter
// without expiry, and concurrent replicas never lose an increment.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { count, ttl }
`;

export function createRedisRateLimiter(redis: Redis, prefix: string): RateLimiter {
  return {
    async hit(key, limit, windowMs) {
      const window = Math.floor(Date.now() / windowMs);
      const [count, ttl] = (await redis.eval(HIT_SCRIPT, 1, `${prefix}:ratelimit:${key}:${window}`, windowMs)) as [
        number,
        number,
      ];
      return { allowed: count <= limit, count, resetMs: ttl };
    },
  };
}

export function createMemoryRateLimiter(): RateLimiter {
  const windows = new Map<string, { window: number; count: number }>();
  return {
    async hit(key, limit, windowMs) {
      const now = Date.now();
      const window = Math.floor(now / windowMs);
      const entry = windows.get(key);
      const current = entry && entry.window === window ? entry : { window, count: 0 };
      current.count += 1;
      windows.set(key, current);
      if (windows.size > 10_000) for (const [k, v] of windows) if (v.window < window) windows.delete(k);
      return { allowed: current.count <= limit, count: current.count, resetMs: (window + 1) * windowMs - now };
    },
  };
}
