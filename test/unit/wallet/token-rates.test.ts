// Exact conversion between token base units and micro-credits: integer only, always rounding down.
import { describe, expect, it } from 'vitest';
import { creditsForWei, formatUnits, weiForCredits } from '../../../src/wallet/token-rates.js';

const OCEAN = { decimals: 18, microCreditsPerToken: 1_000_000n };

describe('token rates', () => {
  it('buys one credit per OCEAN by default, exactly', () => {
    expect(creditsForWei(10n ** 18n, OCEAN)).toEqual({ microCredits: 1_000_000n, dust: 0n });
    expect(creditsForWei(5n * 10n ** 18n, OCEAN).microCredits).toBe(5_000_000n);
    expect(weiForCredits(1_500n, OCEAN)).toBe(1_500n * 10n ** 12n);
  });

  it('rounds down and keeps what is left as dust, never crediting a fraction it did not receive', () => {
    expect(creditsForWei(10n ** 12n - 1n, OCEAN)).toEqual({ microCredits: 0n, dust: 10n ** 12n - 1n });
    expect(creditsForWei(3n * 10n ** 12n + 7n, OCEAN)).toEqual({ microCredits: 3n, dust: 7n });
    const odd = { decimals: 6, microCreditsPerToken: 3n }; // a 6-decimal token at 3 µc each
    expect(creditsForWei(1_000_000n, odd)).toEqual({ microCredits: 3n, dust: 0n });
    expect(creditsForWei(999_999n, odd)).toEqual({ microCredits: 2n, dust: 333_332n });
    expect(weiForCredits(1n, odd)).toBe(333_333n);
  });

  it('never pays out more than a deposit of the same credits bought, on random amounts and rates', () => {
    let seed = 7n;
    const next = () => (seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n);
    for (let i = 0; i < 2000; i++) {
      const rate = { decimals: Number(next() % 25n), microCreditsPerToken: (next() % 10n ** 12n) + 1n };
      const wei = next() % 10n ** 24n;
      const { microCredits, dust } = creditsForWei(wei, rate);
      expect(dust).toBeGreaterThanOrEqual(0n);
      expect(weiForCredits(microCredits, rate)).toBeLessThanOrEqual(wei);
      expect(microCredits * 10n ** BigInt(rate.decimals)).toBeLessThanOrEqual(wei * rate.microCreditsPerToken);
    }
  });

  it('refuses negative amounts and prints decimals', () => {
    expect(() => creditsForWei(-1n, OCEAN)).toThrow(RangeError);
    expect(() => weiForCredits(-1n, OCEAN)).toThrow(RangeError);
    expect(formatUnits(1_500_000_000_000_000n, 18)).toBe('0.0015');
    expect(formatUnits(5n * 10n ** 18n, 18)).toBe('5');
  });
});
