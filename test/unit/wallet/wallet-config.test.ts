// The wallet variables: defaults, and a bad value stopping the start with the variable's name.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';

describe('wallet configuration', () => {
  it('has documented defaults and no default secret', () => {
    const { wallet } = loadConfig({});
    expect(wallet).toMatchObject({
      sessionSecret: undefined,
      treasuryKey: undefined,
      sessionTtlSeconds: 900,
      nonceTtlSeconds: 600,
      confirmations: undefined,
      microCreditsPerOcean: 1_000_000n,
      stablecoin: undefined,
      watchIntervalMs: 2000,
      minPayout: 1000n,
      keyRateLimitPerMinute: 600,
    });
  });

  it('reads every variable', () => {
    const { wallet } = loadConfig({
      SIWE_DOMAIN: 'api.example.com',
      WALLET_SESSION_SECRET: 'x'.repeat(40),
      WALLET_TREASURY_KEY: 'ab'.repeat(32),
      DEPOSIT_CONFIRMATIONS: '12',
      DEPOSIT_MICRO_CREDITS_PER_OCEAN: '123456789012345678901',
      DEPOSIT_STABLECOIN_ADDRESS: `0x${'1'.repeat(40)}`,
      DEPOSIT_STABLECOIN_DECIMALS: '6',
      DEPOSIT_MICRO_CREDITS_PER_STABLECOIN: '990000',
      DEPOSIT_START_BLOCK: '1000',
      PAYOUT_MIN: '5',
    });
    expect(wallet).toMatchObject({
      siweDomain: 'api.example.com',
      treasuryKey: `0x${'ab'.repeat(32)}`,
      confirmations: 12,
      microCreditsPerOcean: 123456789012345678901n,
      stablecoin: { address: `0x${'1'.repeat(40)}`, decimals: 6, microCreditsPerToken: 990000n },
      startBlock: 1000,
      minPayout: 5n,
    });
  });

  it.each([
    ['WALLET_SESSION_SECRET', 'short'],
    ['WALLET_TREASURY_KEY', '0x1234'],
    ['DEPOSIT_STABLECOIN_ADDRESS', 'not-an-address'],
    ['SIWE_DOMAIN', 'https://api.example.com/'],
    ['DEPOSIT_CONFIRMATIONS', '0'],
    ['DEPOSIT_MICRO_CREDITS_PER_OCEAN', '0'],
    ['PAYOUT_MIN', '1.5'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
