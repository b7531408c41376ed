import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('limits on public endpoints and streams', () => {
  it('defaults: /metrics behind the operator token, 300 public requests per minute, 8 streams of 10 minutes per key', () => {
    const c = loadConfig({});
    expect(c.metricsPort).toBeUndefined();
    expect(c.publicRateLimitPerMinute).toBe(300);
    expect(c.sse).toEqual({ maxPerKey: 8, maxLifetimeMs: 600_000 });
  });

  it('reads METRICS_PORT, PUBLIC_RATE_LIMIT_PER_MINUTE (0 = off), SSE_MAX_PER_KEY and SSE_MAX_LIFETIME_MS', () => {
    const c = loadConfig({ METRICS_PORT: '9464', PUBLIC_RATE_LIMIT_PER_MINUTE: '0', SSE_MAX_PER_KEY: '2', SSE_MAX_LIFETIME_MS: '5000' });
    expect(c).toMatchObject({ metricsPort: 9464, publicRateLimitPerMinute: 0, sse: { maxPerKey: 2, maxLifetimeMs: 5000 } });
  });

  it.each([
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ PUBLIC_RATE_LIMIT_PER_MINUTE: '-1' }, 'PUBLIC_RATE_LIMIT_PER_MINUTE'],
    [{ SSE_MAX_PER_KEY: '0' }, 'SSE_MAX_PER_KEY'],
    [{ SSE_MAX_LIFETIME_MS: '10' }, 'SSE_MAX_LIFETIME_MS'],
  ])('stops on %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });
});
