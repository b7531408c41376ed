import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults on an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', logLevel: 'info', redisPrefix: 'posthuman' });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.operatorToken).toBeUndefined();
    expect(c.dataDir.endsWith('.posthuman')).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ POSTHUMAN_OPERATOR_TOKEN: 'short' }, 'POSTHUMAN_OPERATOR_TOKEN'],
    [{ REDIS_PREFIX: 'has space' }, 'REDIS_PREFIX'],
  ])('stops on %o naming %s', (env, variable) => {
    let caught: unknown;
    try {
      loadConfig(env as Record<string, string>);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as Error).message.startsWith(`${variable}:`)).toBe(true);
  });

  it('reads valid values', () => {
    const c = loadConfig({
      PORT: '9000',
      DATABASE_URL: 'postgres://u@h/db',
      REDIS_URL: 'redis://h:6379',
      POSTHUMAN_OPERATOR_TOKEN: 'x'.repeat(40),
    });
    expect(c).toMatchObject({ port: 9000, databaseUrl: 'postgres://u@h/db', redisUrl: 'redis://h:6379' });
  });
});
