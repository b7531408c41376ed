import { describe, expect, it } from 'vitest';
import { createSeededRandom, type SeededRandom } from '../../../src/runtime/seeded-random.js';
import {
  argmax as argmaxRow,
  nucleusThreshold,
  type SamplingParams,
  sampleToken as sampleRow,
  temperedProbabilities as tempered,
  topKCanonical,
  wholeRow,
} from '../../../src/runtime/token-sampler.js';

const argmax = (logits: Float32Array): number => argmaxRow(wholeRow(logits));
const sampleToken = (logits: Float32Array, params: SamplingParams, random: SeededRandom): number => sampleRow(wholeRow(logits), params, random);
const temperedProbabilities = (logits: Float32Array, temperature: number): Float64Array => tempered(wholeRow(logits), temperature);

/** Canonical order by sorting: probability descending, token id ascending. */
const canonical = (probs: Float64Array): number[] => [...probs.keys()].sort((a, b) => probs[b] - probs[a] || a - b);

function randomLogits(seed: number, size: number, levels?: number): Float32Array {
  const random = createSeededRandom(seed);
  // `levels` quantizes the logits so that many tokens tie.
  return Float32Array.from({ length: size }, () => {
    const u = random.nextFloat() * 4;
    return levels ? Math.floor(u * levels) / levels : u;
  });
}

describe('seeded PRNG', () => {
  it('repeats its stream for a seed and differs across seeds', () => {
    const a = createSeededRandom(123);
    const b = createSeededRandom(123);
    const c = createSeededRandom(124);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(sa);
    expect(createSeededRandom(2 ** 40).nextUint32()).not.toBe(createSeededRandom(0).nextUint32());
  });
});

describe('token sampler', () => {
  it('greedy is the first maximum', () => {
    expect(argmax(Float32Array.of(1, 3, 2, 3))).toBe(1);
    expect(sampleToken(Float32Array.of(1, 3, 2, 3), { temperature: 0, topK: 0, topP: 1 }, createSeededRandom(1))).toBe(1);
  });

  it('top-k keeps exactly the k best tokens in canonical order, ties included', () => {
    for (const seed of [1, 2, 3]) {
      const probs = temperedProbabilities(randomLogits(seed, 500, seed === 3 ? 3 : undefined), 1);
      expect(topKCanonical(probs, 17)).toEqual(canonical(probs).slice(0, 17));
    }
  });

  it('top-p keeps the smallest canonical prefix reaching the mass', () => {
    for (const [seed, levels] of [
      [4, undefined],
      [5, 2],
      [6, 8],
    ] as const) {
      const probs = temperedProbabilities(randomLogits(seed, 400, levels), 0.5);
      for (const topP of [0.05, 0.5, 0.9, 0.999]) {
        const order = canonical(probs);
        let mass = 0;
        let n = 0;
        while (mass < topP) mass += probs[order[n++]];
        const expected = new Set(order.slice(0, n));
        const { threshold, ties } = nucleusThreshold(probs, topP);
        let left = ties;
        const kept = new Set([...probs.keys()].filter((i) => probs[i] > threshold || (probs[i] === threshold && left-- > 0)));
        expect(kept).toEqual(expected);
      }
    }
  });

  it('samples only from the kept set, deterministically per seed', () => {
    const logits = randomLogits(9, 1000);
    const params = { temperature: 0.8, topK: 10, topP: 1 };
    const allowed = new Set(topKCanonical(temperedProbabilities(logits, 0.8), 10));
    const draw = (seed: number): number[] => {
      const random = createSeededRandom(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits, params, random));
    };
    const first = draw(1);
    expect(first.every((t) => allowed.has(t))).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(1);
    expect(draw(1)).toEqual(first);
    expect(draw(2)).not.toEqual(first);
    const nucleus = { temperature: 1, topK: 0, topP: 0.3 };
    const { threshold } = nucleusThreshold(temperedProbabilities(logits, 1), 0.3);
    const random = createSeededRandom(3);
    const probs = temperedProbabilities(logits, 1);
    for (let i = 0; i < 50; i++) expect(probs[sampleToken(logits, nucleus, random)]).toBeGreaterThanOrEqual(threshold);
  });

  it('top_k = 1 is greedy', () => {
    const logits = randomLogits(11, 300);
    const random = createSeededRandom(5);
    for (let i = 0; i < 10; i++) expect(sampleToken(logits, { temperature: 1.5, topK: 1, topP: 1 }, random)).toBe(argmax(logits));
  });
});
