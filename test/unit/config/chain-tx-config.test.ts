// The per-chain transaction settings: unset means the chain's own default; bad values stop the start
// naming the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('chain transaction settings', () => {
  it('are unset by default (each chain then has its own, see chain-tx-policy.ts)', () => {
    const { chain } = loadConfig({});
    expect([chain.confirmations, chain.minPriorityFeeGwei, chain.replaceAfterMs]).toEqual([undefined, undefined, undefined]);
  });

  it('take the operator values', () => {
    const { chain } = loadConfig({ CHAIN_CONFIRMATIONS: '0', CHAIN_MIN_PRIORITY_FEE_GWEI: '0.25', CHAIN_TX_REPLACE_AFTER_MS: '45000' });
    expect(chain).toMatchObject({ confirmations: 0, minPriorityFeeGwei: '0.25', replaceAfterMs: 45_000 });
  });

  it.each([
    [{ CHAIN_CONFIRMATIONS: '-1' }, 'CHAIN_CONFIRMATIONS'],
    [{ CHAIN_CONFIRMATIONS: 'two' }, 'CHAIN_CONFIRMATIONS'],
    [{ CHAIN_MIN_PRIORITY_FEE_GWEI: '1e9' }, 'CHAIN_MIN_PRIORITY_FEE_GWEI'],
    [{ CHAIN_MIN_PRIORITY_FEE_GWEI: '0.0000000001' }, 'CHAIN_MIN_PRIORITY_FEE_GWEI'],
    [{ CHAIN_TX_REPLACE_AFTER_MS: '10' }, 'CHAIN_TX_REPLACE_AFTER_MS'],
  ])('refuses %o naming %s', (env, variable) => {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
  });
});

describe('order pool settings', () => {
  it('keep 4 orders ahead, 8 being placed at once, unless told otherwise; 0 placements is refused', () => {
    expect(loadConfig({}).chain).toMatchObject({ orderPoolSize: 4, orderPoolRefillConcurrency: 8 });
    expect(loadConfig({ ORDER_POOL_SIZE: '32', ORDER_POOL_REFILL_CONCURRENCY: '16' }).chain).toMatchObject({ orderPoolSize: 32, orderPoolRefillConcurrency: 16 });
    expect(() => loadConfig({ ORDER_POOL_REFILL_CONCURRENCY: '0' })).toThrow(/ORDER_POOL_REFILL_CONCURRENCY/);
  });
});
