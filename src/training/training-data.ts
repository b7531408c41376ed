// Texts -> training sequences, deterministically: tokenize, join documents with <|endoftext|>, cut
// into context-length windows, split train/eval by a seeded shuffle, and draw batches with a seeded
// sampler. Pure functions of their inputs (mulberry32 only), so a seed names one exact data order.
import { GPT2_END_OF_TEXT } from '../runtime/gpt2-config.js';
import { getGpt2Tokenizer } from '../runtime/gpt2-tokenizer.js';
import { createSeededRandom, type SeededRandom } from '../runtime/seeded-random.js';
import type { TokenBatch } from './training-feeds.js';

/** Label of a position that is not scored (Hugging Face's ignore index). */
export const IGNORED_LABEL = -100;

/** One token stream: each document's tokens followed by <|endoftext|>, GPT-2's document separator. */
export function tokenizeDocuments(texts: readonly string[], endOfText = GPT2_END_OF_TEXT): number[] {
  const tokenizer = getGpt2Tokenizer();
  const stream: number[] = [];
  for (const text of texts) {
    for (const id of tokenizer.encode(text)) stream.push(id);
    stream.push(endOfText);
  }
  return stream;
}

/**
 * Windows of `length` tokens that overlap by one, so every token after the first is a target in
 * exactly one window (a window scores its tokens 1..n-1). A shorter tail is kept if it scores
 * anything.
 */
export function cutWindows(stream: readonly number[], length: number): number[][] {
  if (!Number.isInteger(length) || length < 2) throw new RangeError(`window length must be an integer >= 2, got ${length}`);
  const windows: number[][] = [];
  for (let start = 0; start + 1 < stream.length; start += length - 1) windows.push(stream.slice(start, start + length));
  return windows;
}

/** Uniform integer in [0, n) without modulo bias (rejection on the 32-bit draw). */
export function uniformInt(random: SeededRandom, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`n must be an integer in [1, 2^32], got ${n}`);
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (;;) {
    const draw = random.nextUint32();
    if (draw < limit) return draw % n;
  }
}

/** Fisher-Yates permutation of 0..n-1 from the given PRNG. */
export function seededPermutation(n: number, random: SeededRandom): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(random, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * A seeded train/eval split: round(n * evalFraction) windows, chosen by a shuffle, are held out
 * (at least one when evalFraction > 0 and there are two windows or more; never all of them).
 * Both sides keep the windows' original order.
 */
export function splitTrainEval<T>(windows: readonly T[], evalFraction: number, seed: number): { train: T[]; evalSet: T[] } {
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new RangeError(`evalFraction must be in [0, 1), got ${evalFraction}`);
  const n = windows.length;
  let evalCount = Math.round(n * evalFraction);
  if (evalFraction > 0 && n >= 2) evalCount = Math.min(Math.max(evalCount, 1), n - 1);
  const held = new Set(seededPermutation(n, createSeededRandom(seed)).slice(0, evalCount));
  const train: T[] = [];
  const evalSet: T[] = [];
  windows.forEach((w, i) => {
    (held.has(i) ? evalSet : train).push(w);
  });
  return { train, evalSet };
}

export interface TrainingSet {
  train: number[][];
  evalSet: number[][];
  /** Tokens in the whole stream, separators included. */
  tokens: number;
}

/** tokenize -> join -> windows of the context length -> seeded split. */
export function buildTrainingSet(texts: readonly string[], options: { contextLength: number; evalFraction: number; seed: number }): TrainingSet {
  const stream = tokenizeDocuments(texts);
  const { train, evalSet } = splitTrainEval(cutWindows(stream, options.contextLength), options.evalFraction, options.seed);
  return { train, evalSet, tokens: stream.length };
}

export interface BatchSampler {
  /** Indices of the next batch: an epoch is a seeded permutation, batches run across epoch ends. */
  next(): number[];
}

export function createBatchSampler(count: number, batchSize: number, seed: number): BatchSampler {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`need at least one sequence to sample, got ${count}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer >= 1, got ${batchSize}`);
  const random = createSeededRandom(seed);
  let order: number[] = [];
  let cursor = 0;
  return {
    next() {
      const batch: number[] = [];
      while (batch.length < batchSize) {
        if (cursor === order.length) {
          order = seededPermutation(count, random);
          cursor = 0;
        }
        batch.push(order[cursor++]);
      }
      return batch;
    },
  };
}

/** Right-pads rows to the longest with `padId`; labels are the rows' tokens, IGNORED_LABEL on padding. */
export function packBatch(rows: readonly number[][], padId = GPT2_END_OF_TEXT): TokenBatch {
  if (rows.length === 0) throw new RangeError('a batch needs at least one row');
  const length = Math.max(...rows.map((r) => r.length));
  const inputIds = new BigInt64Array(rows.length * length);
  const labels = new BigInt64Array(rows.length * length);
  rows.forEach((row, b) => {
    for (let t = 0; t < length; t++) {
      const inside = t < row.length;
      inputIds[b * length + t] = BigInt(inside ? row[t] : padId);
      labels[b * length + t] = BigInt(inside ? row[t] : IGNORED_LABEL);
    }
  });
  return { batch: rows.length, length, inputIds, labels };
}

/** Number of scored targets in rows (each row scores its tokens 1..n-1). */
export function countTargets(rows: readonly number[][]): number {
  return rows.reduce((sum, row) => sum + Math.max(row.length - 1, 0), 0);
}
