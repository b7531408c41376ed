// Chunked token counting must give exactly the tokenizer's count: random texts built from the
// characters GPT-2's pre-tokenizer treats differently, cut into tiny chunks so every cut is tried.
import { describe, expect, it } from 'vitest';
import { countDatasetTokens } from '../../../src/datasets/dataset-tokens.js';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';

const PARTS = [
  'a', 'Hello', 'world', ' ', '  ', '\n', '\n\n', '\t', '\r\n', "'s", "'t", "'ll", "'", "don't", '42', '3.14', '!', '?!',
  '...', '(', ')', '"', '日本語', '，', '😀', '𝐀𝐁', 'é', 'naïve', '-', '_', '<|endoftext|>', '<|', '|>', '\u00a0', '١٢',
];

function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomText(random: () => number, parts: number): string {
  let out = '';
  for (let i = 0; i < parts; i++) out += PARTS[Math.floor(random() * PARTS.length)];
  return out;
}

const exact = (docs: string[]) => docs.reduce((n, d) => n + getGpt2Tokenizer().encode(d).length, 0);

describe('countDatasetTokens', () => {
  it('equals the whole-text count however the text is cut', async () => {
    const random = seeded(7);
    let checked = 0;
    for (let round = 0; round < 300; round++) {
      const docs = Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomText(random, 1 + Math.floor(random() * 120)));
      const chunkChars = 1 + Math.floor(random() * 40);
      const windowChars = 1 + Math.floor(random() * 40);
      const counted = await countDatasetTokens(docs, { chunkChars, windowChars });
      // A tiny window may find no cut (then null, never a wrong number).
      if (counted === null) continue;
      expect(counted, JSON.stringify({ docs, chunkChars, windowChars })).toBe(exact(docs));
      checked++;
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('counts a long ordinary text with the default chunks', async () => {
    const random = seeded(11);
    const text = randomText(random, 40_000);
    expect(await countDatasetTokens([text])).toBe(exact([text]));
  });

  it('counts <|endoftext|> inside a document as one token', async () => {
    expect(await countDatasetTokens(['a<|endoftext|>b'])).toBe(3);
  });

  it('gives up (null) on a stretch with no safe cut longer than the window allows', async () => {
    expect(await countDatasetTokens(['x'.repeat(100_000)])).toBeNull();
    expect(await countDatasetTokens(['x'.repeat(20_000)])).toBe(exact(['x'.repeat(20_000)]));
  });
});
