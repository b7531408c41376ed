import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter, gcra } from '../../../src/rate-limit/rate-limiter.js';

describe('GCRA rate limiting', () => {
  it('allows `limit` requests at once, then refuses with the time until the next slot', () => {
    let tat: number | null = null;
    const decisions = [];
    for (let i = 0; i < 4; i++) {
      const d = gcra(1_000_000, tat, 3, 60_000);
      if (d.allowed) tat = d.tat;
      decisions.push(d);
    }
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions[3].retryAfterMs).toBe(20_000);
  });

  it('refills smoothly: one slot per window/limit, with no burst at window edges', async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter(() => now);
    for (let i = 0; i < 3; i++) expect((await limiter.hit('k', 3, 60_000)).allowed).toBe(true);
    expect((await limiter.hit('k', 3, 60_000)).allowed).toBe(false);
    now = 19_999;
    expect((await limiter.hit('k', 3, 60_000)).allowed).toBe(false);
    now = 20_000;
    expect((await limiter.hit('k', 3, 60_000)).allowed).toBe(true);
    expect((await limiter.hit('k', 3, 60_000)).allowed).toBe(false);
    expect((await limiter.hit('other', 3, 60_000)).allowed).toBe(true);
  });
});
