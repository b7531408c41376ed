// Gas limits and fees for the gateway's transactions, as pure rules: a limit from the node's estimate
// with a margin (the fixed, hardhat-measured limit when there is no estimate, and a ceiling above it),
// EIP-1559 fees with the chain's minimum priority fee (a legacy gas price where the chain has no base
// fee), and the bump a replacement needs to be accepted in place of a pending transaction.
import { OceanError } from './ocean-error.js';

/** Added to an estimate: state can change between estimation and inclusion (another order, a price). */
export const GAS_MARGIN_PERCENT = 25n;
/** An estimate above this many times the call's fixed limit is refused, nothing sent: not the call we measured. */
export const GAS_CEILING_FACTOR = 3n;
/** geth's txpool refuses a replacement under +10% on both fee fields; one more step clears rounding. */
export const REPLACEMENT_BUMP_PERCENT = 12n;

export type FeeQuote =
  | { type: 2; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
  | { type: 0; gasPrice: bigint };

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/**
 * The gas limit for one call: the estimate + GAS_MARGIN_PERCENT, or `fixed` when the node could not
 * estimate (a pipelined call whose predecessor is not mined yet reverts in estimation).
 */
export function gasLimitFor(estimate: bigint | undefined, fixed: bigint, what = 'transaction'): bigint {
  if (estimate === undefined) return fixed;
  const limit = ceilDiv(estimate * (100n + GAS_MARGIN_PERCENT), 100n);
  const ceiling = fixed * GAS_CEILING_FACTOR;
  if (limit > ceiling) {
    throw new OceanError('gas_too_high', `${what}: the node estimates ${estimate} gas, above the ceiling ${ceiling} (${GAS_CEILING_FACTOR}x the measured ${fixed}); not sent`);
  }
  return limit;
}

/**
 * Fees for a transaction sent now. With a base fee (EIP-1559): the node's suggested priority fee, at
 * least `minTip`, and a max fee of twice the base fee + the tip, which survives several full blocks of
 * base-fee growth. Without one: a legacy gas price, the node's, at least `minTip`.
 */
export function feeQuote(baseFee: bigint | null | undefined, suggestedTip: bigint, gasPrice: bigint, minTip: bigint): FeeQuote {
  if (baseFee === null || baseFee === undefined) return { type: 0, gasPrice: gasPrice > minTip ? gasPrice : minTip };
  const tip = suggestedTip > minTip ? suggestedTip : minTip;
  return { type: 2, maxFeePerGas: baseFee * 2n + tip, maxPriorityFeePerGas: tip };
}

const bump = (value: bigint) => {
  const raised = ceilDiv(value * (100n + REPLACEMENT_BUMP_PERCENT), 100n);
  return raised > value ? raised : value + 1n;
};
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * Fees for a replacement of a pending transaction sent with `sent`: every field raised by at least
 * REPLACEMENT_BUMP_PERCENT (what nodes require to take it in place of the first), and never below
 * what the chain asks now.
 */
export function replacementFees(sent: FeeQuote, now: FeeQuote): FeeQuote {
  if (sent.type === 0) {
    const price = now.type === 0 ? now.gasPrice : now.maxFeePerGas;
    return { type: 0, gasPrice: max(bump(sent.gasPrice), price) };
  }
  const nowTip = now.type === 2 ? now.maxPriorityFeePerGas : now.gasPrice;
  const nowMax = now.type === 2 ? now.maxFeePerGas : now.gasPrice;
  const tip = max(bump(sent.maxPriorityFeePerGas), nowTip);
  const maxFee = max(max(bump(sent.maxFeePerGas), nowMax), tip);
  return { type: 2, maxFeePerGas: maxFee, maxPriorityFeePerGas: tip };
}
