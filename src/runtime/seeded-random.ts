// Small seeded PRNG (mulberry32) used for weight init and for sampling: pure 32-bit integer
// arithmetic, so the same seed gives the same stream on every machine and Node version.

export interface SeededRandom {
  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Next uniform float in [0, 1), with 32 bits of resolution. */
  nextFloat(): number;
}

/** Accepts any non-negative safe integer; the high bits are folded in so large seeds stay distinct. */
export function createSeededRandom(seed: number): SeededRandom {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
  const high = Math.floor(seed / 2 ** 32);
  let state = (seed >>> 0) ^ Math.imul(high, 0x9e3779b1);
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { nextUint32, nextFloat: () => nextUint32() / 4294967296 };
}
