// Prices jobs in integer micro-credits and splits revenue; no floats anywhere.
export interface ModelPrices {
  pricePerJob: bigint;
  pricePer1kTokens: bigint;
}

/** Default marketplace fee in basis points (25%); `MARKETPLACE_FEE_BPS` in the environment sets it. */
export const MARKETPLACE_FEE_BPS = 2_500n;

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/** Per-job price plus the per-token price of every token processed (input and output), rounded up. */
export function jobCost(prices: ModelPrices, tokens: number): bigint {
  return prices.pricePerJob + ceilDiv(prices.pricePer1kTokens * BigInt(tokens), 1000n);
}

/**
 * The owner's share is rounded down; the marketplace gets the remainder, so the parts sum exactly.
 * Jobs settle through splitJobRevenue (credits/revenue-split.ts), which adds lineage royalties.
 */
export function splitRevenue(cost: bigint, hasOwner: boolean): { owner: bigint; marketplace: bigint } {
  if (!hasOwner) return { owner: 0n, marketplace: cost };
  const owner = (cost * (10_000n - MARKETPLACE_FEE_BPS)) / 10_000n;
  return { owner, marketplace: cost - owner };
}
