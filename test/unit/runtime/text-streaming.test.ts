import { describe, expect, it } from 'vitest';
import { getGpt2Tokenizer, TokenTextStream } from '../../../src/runtime/gpt2-tokenizer.js';
import { StopSequenceMatcher } from '../../../src/runtime/stop-sequence-matcher.js';

describe('GPT-2 tokenizer', () => {
  const tokenizer = getGpt2Tokenizer();

  it('encodes like GPT-2, with <|endoftext|> as the special token 50256', () => {
    expect(tokenizer.encode('Hello world')).toEqual([15496, 995]);
    expect(tokenizer.encode('a<|endoftext|>b')).toEqual([64, 50256, 65]);
    expect(tokenizer.decode([15496, 995, 50256])).toBe('Hello world<|endoftext|>');
  });

  it('streams text only once its UTF-8 is complete', () => {
    const stream = new TokenTextStream();
    // 🦜 is three byte-level tokens (f09f, a6, 9c): only the last one completes the character.
    expect(tokenizer.encode('🦜').map((id) => stream.push(id))).toEqual(['', '', '🦜']);
    const ids = tokenizer.encode('ok 😀 é');
    const pieces = ids.map((id) => stream.push(id));
    expect(pieces.join('') + stream.flush()).toBe('ok 😀 é');
    expect(pieces.every((p) => !p.includes('\uFFFD'))).toBe(true);
  });

  it('flushes a dangling partial character as U+FFFD, like a one-shot decode', () => {
    const ids = tokenizer.encode('😀');
    const stream = new TokenTextStream();
    const text = ids.slice(0, -1).map((id) => stream.push(id)).join('') + stream.flush();
    expect(text).toBe(tokenizer.decode(ids.slice(0, -1)));
    expect(text).toContain('\uFFFD');
  });
});

describe('stop sequences', () => {
  it('holds back a possible stop prefix and releases it when it turns out not to be one', () => {
    const m = new StopSequenceMatcher(['END']);
    expect(m.push('abc E')).toEqual({ text: 'abc ', stopped: false });
    expect(m.push('N')).toEqual({ text: '', stopped: false });
    expect(m.push('x')).toEqual({ text: 'ENx', stopped: false });
  });

  it('cuts at the earliest stop, across pushes, and never releases the stop text', () => {
    const m = new StopSequenceMatcher(['world', 'lo w']);
    expect(m.push('hel')).toEqual({ text: 'he', stopped: false }); // 'l' may start 'lo w'
    expect(m.push('lo wor')).toEqual({ text: 'l', stopped: true });
  });

  it('flush releases the held tail', () => {
    const m = new StopSequenceMatcher(['\n\n']);
    expect(m.push('line\n')).toEqual({ text: 'line', stopped: false });
    expect(m.flush()).toBe('\n');
  });
});
