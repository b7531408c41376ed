// Gas limits, fees and replacement bumps as rules, and the per-chain transaction policy.
import { parseUnits } from 'ethers';
import { describe, expect, it } from 'vitest';
import { chainTxPolicy } from '../../../src/ocean/chain-tx-policy.js';
import { feeQuote, gasLimitFor, replacementFees } from '../../../src/ocean/tx-fees.js';

const gwei = (n: string) => parseUnits(n, 'gwei');

describe('gas limit', () => {
  it('is the estimate plus 25 %, rounded up, even when that is below the fixed limit', () => {
    expect(gasLimitFor(104_001n, 160_000n)).toBe(130_002n);
    expect(gasLimitFor(3n, 160_000n)).toBe(4n);
  });
  it('is the fixed limit when there is no estimate', () => {
    expect(gasLimitFor(undefined, 160_000n)).toBe(160_000n);
  });
  it('may pass the fixed limit up to 3x, and an estimate beyond is refused, naming the call', () => {
    expect(gasLimitFor(384_000n, 160_000n)).toBe(480_000n);
    expect(() => gasLimitFor(384_001n, 160_000n, 'dispense')).toThrow(expect.objectContaining({ code: 'gas_too_high', message: expect.stringMatching(/^dispense: .*384001.*480000/) }));
  });
});

describe('fees', () => {
  it('EIP-1559: the suggested tip, at least the chain minimum, and twice the base fee on top', () => {
    expect(feeQuote(gwei('10'), gwei('1'), 0n, 0n)).toEqual({ type: 2, maxPriorityFeePerGas: gwei('1'), maxFeePerGas: gwei('21') });
    expect(feeQuote(gwei('10'), gwei('1'), 0n, gwei('30'))).toEqual({ type: 2, maxPriorityFeePerGas: gwei('30'), maxFeePerGas: gwei('50') });
    expect(feeQuote(gwei('10'), gwei('40'), 0n, gwei('30'))).toMatchObject({ maxPriorityFeePerGas: gwei('40') });
  });
  it('a chain without a base fee gets a legacy gas price, at least the minimum', () => {
    expect(feeQuote(null, gwei('1'), gwei('100'), 0n)).toEqual({ type: 0, gasPrice: gwei('100') });
    expect(feeQuote(undefined, gwei('1'), gwei('5'), gwei('100'))).toEqual({ type: 0, gasPrice: gwei('100') });
  });
  it('a replacement raises both EIP-1559 fields by more than the 10 % nodes require, and never below the current fees', () => {
    const sent = { type: 2, maxFeePerGas: gwei('21'), maxPriorityFeePerGas: gwei('1') } as const;
    const calm = replacementFees(sent, { type: 2, maxFeePerGas: gwei('3'), maxPriorityFeePerGas: gwei('1') });
    if (calm.type !== 2) throw new Error('type');
    expect(calm.maxFeePerGas * 100n).toBeGreaterThanOrEqual(sent.maxFeePerGas * 110n);
    expect(calm.maxPriorityFeePerGas * 100n).toBeGreaterThanOrEqual(sent.maxPriorityFeePerGas * 110n);
    const busy = replacementFees(sent, { type: 2, maxFeePerGas: gwei('90'), maxPriorityFeePerGas: gwei('5') });
    expect(busy).toEqual({ type: 2, maxFeePerGas: gwei('90'), maxPriorityFeePerGas: gwei('5') });
    // A zero tip still rises (a node compares with >=, so 0 * 1.12 would not replace anything).
    expect(replacementFees({ type: 2, maxFeePerGas: 10n, maxPriorityFeePerGas: 0n }, { type: 2, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n })).toEqual({ type: 2, maxFeePerGas: 12n, maxPriorityFeePerGas: 1n });
    expect(replacementFees({ type: 0, gasPrice: gwei('100') }, { type: 0, gasPrice: gwei('100') })).toEqual({ type: 0, gasPrice: gwei('112') });
  });
});

describe('chain policy', () => {
  it('has per-chain defaults: nothing to wait for on a local chain', () => {
    expect(chainTxPolicy(8996)).toEqual({ confirmations: 0, minPriorityFeeWei: 0n, replaceAfterMs: 15_000 });
    expect(chainTxPolicy(11155111).confirmations).toBe(2);
    expect(chainTxPolicy(137).minPriorityFeeWei).toBe(gwei('30'));
    expect(chainTxPolicy(424242).confirmations).toBe(3);
  });
  it('takes the operator’s values over the defaults', () => {
    expect(chainTxPolicy(137, { confirmations: 5, minPriorityFeeGwei: '0.5', replaceAfterMs: 9_000 })).toEqual({ confirmations: 5, minPriorityFeeWei: gwei('0.5'), replaceAfterMs: 9_000 });
  });
});
