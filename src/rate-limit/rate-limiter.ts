// Per-key request limits with GCRA (a token bucket kept as one timestamp): `limit` requests per
// window, refilled smoothly, with no burst at window edges. In Redis the check is one atomic
// script using the server's clock, so every replica shares one limit; in memory for the embedded default.
import type { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  /** Requests still allowed right now. */
  remaining: number;
  /** When refused: milliseconds until one more request is allowed. */
  retryAfterMs: number;
}

export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateDecision>;
}

/** Pure GCRA step: `tat` is the theoretical arrival time kept for the key (ms). */
export function gcra(nowMs: number, tatMs: number | null, limit: number, windowMs: number) {
  const interval = windowMs / limit;
  const tat = Math.max(tatMs ?? nowMs, nowMs);
  const next = tat + interval;
  if (next - nowMs > windowMs) {
    return { allowed: false, tat, remaining: 0, retryAfterMs: Math.ceil(next - nowMs - windowMs) };
  }
  const remaining = Math.floor((windowMs - (next - nowMs)) / interval);
  return { allowed: true, tat: next, remaining, retryAfterMs: 0 };
}

const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = window / limit
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = math.max(tonumber(stored), now) end
local nxt = tat + interval
if nxt - now > window then
  return { 0, 0, math.ceil(nxt - now - window) }
end
redis.call('SET', KEYS[1], tostring(nxt), 'PX', math.ceil(nxt - now))
return { 1, math.floor((window - (nxt - now)) / interval), 0 }
`;

export function createRedisRateLimiter(redis: Redis, prefix: string): RateLimiter {
  return {
    async hit(key, limit, windowMs) {
      const [allowed, remaining, retryAfterMs] = (await redis.eval(
        GCRA_SCRIPT,
        1,
        `${prefix}:ratelimit:${key}`,
        limit,
        windowMs,
      )) as [number, number, number];
      return { allowed: allowed === 1, remaining, retryAfterMs };
    },
  };
}

export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const tats = new Map<string, number>();
  return {
    async hit(key, limit, windowMs) {
      const t = now();
      const step = gcra(t, tats.get(key) ?? null, limit, windowMs);
      if (step.allowed) tats.set(key, step.tat);
      if (tats.size > 50_000) for (const [k, v] of tats) if (v < t) tats.delete(k);
      return { allowed: step.allowed, remaining: step.remaining, retryAfterMs: step.retryAfterMs };
    },
  };
}
