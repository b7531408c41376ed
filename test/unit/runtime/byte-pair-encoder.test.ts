import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { describe, expect, it } from 'vitest';
import { createGpt2Encoder, getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';

/** A small seeded generator (LCG), so the varied texts are the same on every run. */
function seeded(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const PIECES = [
  'a', 'e', ' ', '  ', '\n', '\t', '\r\n', ' \n', 'th', 'ing', "'s", "'ll", "'", '1', '23', '.', ',', '!', '-', '--',
  'é', 'ß', '中文', '😀', '🦜', '\ud800', '\udfff', '<|endoftext|>', '<|', 'ÃÂ', 'aaaa', 'Hello', ' world', 'x',
];

describe('BytePairEncoder (GPT-2 ranks)', () => {
  const encoder = createGpt2Encoder();
  // The reference: js-tiktoken's own encoder, which the runtime used before (quadratic per word).
  const reference = new Tiktoken(gpt2Ranks);

  it('gives exactly js-tiktoken’s ids on varied text, special tokens and lone surrogates included', () => {
    const random = seeded(7);
    const differing: string[] = [];
    for (let k = 0; k < 1500; k++) {
      let text = '';
      const length = Math.floor(random() * 40);
      for (let i = 0; i < length; i++) text += PIECES[Math.floor(random() * PIECES.length)];
      if (JSON.stringify(encoder.encode(text)) !== JSON.stringify(reference.encode(text, 'all'))) differing.push(text);
    }
    expect(differing).toEqual([]);
  });

  it('matches js-tiktoken on prose and code', () => {
    const prose =
      "It's the tokenizer's job: GPT-2 splits 'words', numbers like 12345, and punctuation!!! \n\n  indented\tcode() {}";
    expect(encoder.encode(prose)).toEqual(reference.encode(prose, 'all'));
    expect(encoder.encode('a'.repeat(300))).toEqual(reference.encode('a'.repeat(300), 'all'));
  });

  it('merges a pathological 100,000-character word with work linear in its length', () => {
    const before = encoder.work.merges;
    const ids = encoder.encode('a'.repeat(100_000));
    // Every merge removes one part, so there are fewer merges than bytes: no quadratic rescans.
    expect(encoder.work.merges - before).toBeLessThan(100_000);
    expect(ids.length).toBeGreaterThan(0);
    expect(getGpt2Tokenizer().decode(ids)).toBe('a'.repeat(100_000));
  });

  it('counts exactly up to the limit and stops past it without merging what cannot fit', () => {
    expect(encoder.countUpTo('Hello world', 10)).toBe(2);
    expect(encoder.countUpTo('Hello world', 1)).toBeGreaterThan(1);
    const before = encoder.work.merges;
    expect(encoder.countUpTo('a'.repeat(1_000_000), 1024)).toBeGreaterThan(1024);
    expect(encoder.work.merges - before).toBe(0);
    // Many short words: counting stops after the word that passes the limit.
    expect(encoder.countUpTo('word '.repeat(2_000), 100)).toBe(101);
  });
});
