import { describe, expect, it } from 'vitest';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';
import { createSeededRandom } from '../../../src/runtime/seeded-random.js';
import {
  buildTrainingSet,
  countTargets,
  createBatchSampler,
  cutWindows,
  packBatch,
  seededPermutation,
  splitTrainEval,
  tokenizeDocuments,
  uniformInt,
} from '../../../src/training/training-data.js';

const EOT = 50256;

describe('tokenizeDocuments', () => {
  it('ends every document with <|endoftext|>', () => {
    const tokenizer = getGpt2Tokenizer();
    const stream = tokenizeDocuments(['Hello world.', 'Second one.']);
    expect(stream).toEqual([...tokenizer.encode('Hello world.'), EOT, ...tokenizer.encode('Second one.'), EOT]);
  });
});

describe('cutWindows', () => {
  const stream = Array.from({ length: 10 }, (_, i) => i);

  it('overlaps windows by one token so every token after the first is a target exactly once', () => {
    const windows = cutWindows(stream, 4);
    expect(windows).toEqual([
      [0, 1, 2, 3],
      [3, 4, 5, 6],
      [6, 7, 8, 9],
    ]);
    expect(countTargets(windows)).toBe(stream.length - 1);
  });

  it('keeps a shorter tail that still scores a token, and drops a lone last token', () => {
    expect(cutWindows(stream.slice(0, 6), 4)).toEqual([
      [0, 1, 2, 3],
      [3, 4, 5],
    ]);
    expect(cutWindows(stream.slice(0, 4), 4)).toEqual([[0, 1, 2, 3]]);
  });

  it('refuses windows that cannot score anything', () => {
    expect(() => cutWindows(stream, 1)).toThrow(RangeError);
  });
});

describe('seeded randomness', () => {
  it('uniformInt stays in range and a permutation holds every index once', () => {
    const random = createSeededRandom(3);
    for (let i = 0; i < 200; i++) {
      const v = uniformInt(random, 7);
      expect(v >= 0 && v < 7 && Number.isInteger(v)).toBe(true);
    }
    const perm = seededPermutation(50, createSeededRandom(9));
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(perm).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(seededPermutation(50, createSeededRandom(9))).toEqual(perm);
  });
});

describe('splitTrainEval', () => {
  const windows = Array.from({ length: 20 }, (_, i) => [i, i + 1]);

  it('holds out round(n * fraction) windows chosen by the seed, keeping order on both sides', () => {
    const a = splitTrainEval(windows, 0.25, 1);
    expect(a.evalSet).toHaveLength(5);
    expect(a.train).toHaveLength(15);
    expect([...a.train, ...a.evalSet].map((w) => w[0]).sort((x, y) => x - y)).toEqual(windows.map((w) => w[0]));
    expect(a.evalSet.map((w) => w[0])).toEqual([...a.evalSet.map((w) => w[0])].sort((x, y) => x - y));
    expect(splitTrainEval(windows, 0.25, 1)).toEqual(a);
    expect(splitTrainEval(windows, 0.25, 2).evalSet).not.toEqual(a.evalSet);
  });

  it('holds out at least one and never everything', () => {
    expect(splitTrainEval(windows, 0.001, 1).evalSet).toHaveLength(1);
    expect(splitTrainEval(windows, 0.999, 1).train).toHaveLength(1);
    expect(splitTrainEval(windows, 0, 1).evalSet).toHaveLength(0);
    expect(() => splitTrainEval(windows, 1, 1)).toThrow(RangeError);
  });
});

describe('createBatchSampler', () => {
  it('visits every sequence once per epoch, in a seeded order, across batch boundaries', () => {
    const sampler = createBatchSampler(10, 4, 5);
    const drawn = [sampler.next(), sampler.next(), sampler.next(), sampler.next(), sampler.next()].flat();
    expect([...drawn.slice(0, 10)].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect([...drawn.slice(10, 20)].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const again = createBatchSampler(10, 4, 5);
    expect([again.next(), again.next(), again.next(), again.next(), again.next()].flat()).toEqual(drawn);
    const other = createBatchSampler(10, 4, 6);
    expect([other.next(), other.next(), other.next()].flat()).not.toEqual(drawn.slice(0, 12));
  });
});

describe('packBatch', () => {
  it('right-pads with <|endoftext|> and labels padding -100', () => {
    const batch = packBatch([[1, 2, 3], [4, 5]]);
    expect(batch.batch).toBe(2);
    expect(batch.length).toBe(3);
    expect([...batch.inputIds].map(Number)).toEqual([1, 2, 3, 4, 5, EOT]);
    expect([...batch.labels].map(Number)).toEqual([1, 2, 3, 4, 5, -100]);
  });
});

describe('buildTrainingSet', () => {
  it('is a pure function of texts, context length, fraction and seed', () => {
    const texts = Array.from({ length: 12 }, (_, i) => `Document number ${i} says something about the weather and the sea.`);
    const a = buildTrainingSet(texts, { contextLength: 16, evalFraction: 0.2, seed: 4 });
    const b = buildTrainingSet(texts, { contextLength: 16, evalFraction: 0.2, seed: 4 });
    expect(b).toEqual(a);
    expect(a.train.length + a.evalSet.length).toBe(cutWindows(tokenizeDocuments(texts), 16).length);
    expect(countTargets([...a.train, ...a.evalSet])).toBe(a.tokens - 1);
    for (const w of [...a.train, ...a.evalSet]) expect(w.length).toBeLessThanOrEqual(16);
  });
});
