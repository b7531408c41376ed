// Exact integer conversion between token base units (wei) and micro-credits. A rate is micro-credits
// per whole token (10^decimals base units); both directions round down, so the treasury never pays
// or credits a fraction it did not receive. What rounding leaves is kept as `dust`.

export interface TokenRate {
  /** Micro-credits one whole token buys. */
  microCreditsPerToken: bigint;
  /** Base units per whole token: 18 for OCEAN. */
  decimals: number;
}

const unit = (decimals: number) => 10n ** BigInt(decimals);

/** Micro-credits a transfer of `wei` buys, and the base units left over (below one micro-credit). */
export function creditsForWei(wei: bigint, rate: TokenRate): { microCredits: bigint; dust: bigint } {
  if (wei < 0n) throw new RangeError('a token amount cannot be negative');
  const scaled = wei * rate.microCreditsPerToken;
  const microCredits = scaled / unit(rate.decimals);
  const dust = wei - ceilDiv(microCredits * unit(rate.decimals), rate.microCreditsPerToken);
  return { microCredits, dust };
}

/** Base units paid out for `microCredits` (rounded down). */
export function weiForCredits(microCredits: bigint, rate: TokenRate): bigint {
  if (microCredits < 0n) throw new RangeError('micro-credits cannot be negative');
  return (microCredits * unit(rate.decimals)) / rate.microCreditsPerToken;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** `1.5` style decimal text of base units (for messages). */
export function formatUnits(wei: bigint, decimals: number): string {
  const u = unit(decimals);
  const whole = wei / u;
  const frac = (wei % u).toString().padStart(decimals, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole.toString();
}
