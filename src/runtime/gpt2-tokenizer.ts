// The GPT-2 BPE tokenizer (js-tiktoken's 'gpt2' ranks, encoded by our BytePairEncoder, which gives
// js-tiktoken's output without its quadratic merge loop) plus the per-token byte table that decoding
// and streaming need; one lazily built instance per thread.
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { BytePairEncoder } from './byte-pair-encoder.js';
import { GPT2_END_OF_TEXT } from './gpt2-config.js';

export const END_OF_TEXT = '<|endoftext|>';

export interface Gpt2Tokenizer {
  /** `<|endoftext|>` in the text is the special token 50256, as with Hugging Face's GPT2TokenizerFast. */
  encode(text: string): number[];
  /**
   * The token count if it is at most `limit`, else some number above `limit`. Work is bounded by the
   * limit, not the text: request handlers count with it before anything else looks at the text.
   */
  countTokens(text: string, limit: number): number;
  decode(tokenIds: readonly number[]): string;
  /** Raw bytes of one token (a token may hold part of a UTF-8 character). */
  tokenBytes(tokenId: number): Uint8Array;
}

let byteTable: Uint8Array[] | undefined;
let tokenizer: Gpt2Tokenizer | undefined;

/** Bytes of every token id, read from the rank file's base64 list (ids are ranks, in order). */
export function gpt2TokenByteTable(): Uint8Array[] {
  if (byteTable) return byteTable;
  const fields = gpt2Ranks.bpe_ranks.split('\n')[0].split(' ');
  if (fields[1] !== '0') throw new Error('unexpected js-tiktoken gpt2 rank format');
  const table: Uint8Array[] = fields.slice(2).map((b64) => Buffer.from(b64, 'base64'));
  table[GPT2_END_OF_TEXT] = new TextEncoder().encode(END_OF_TEXT);
  byteTable = table;
  return table;
}

export function getGpt2Tokenizer(): Gpt2Tokenizer {
  if (tokenizer) return tokenizer;
  const encoder = createGpt2Encoder();
  const table = gpt2TokenByteTable();
  const decoder = new TextDecoder('utf-8');
  tokenizer = {
    encode: (text) => encoder.encode(text),
    countTokens: (text, limit) => encoder.countUpTo(text, limit),
    decode: (tokenIds) => decoder.decode(concatTokenBytes(table, tokenIds)),
    tokenBytes: (tokenId) => table[tokenId] ?? new Uint8Array(0),
  };
  return tokenizer;
}

/** A BytePairEncoder over the GPT-2 ranks; `<|endoftext|>` in the text is the special token. */
export function createGpt2Encoder(): BytePairEncoder {
  const table = gpt2TokenByteTable();
  const ranks = new Map<string, number>();
  for (let id = 0; id < GPT2_END_OF_TEXT; id++) ranks.set(Buffer.from(table[id]).toString('latin1'), id);
  return new BytePairEncoder(ranks, gpt2Ranks.pat_str, new Map([[END_OF_TEXT, GPT2_END_OF_TEXT]]));
}

function concatTokenBytes(table: Uint8Array[], tokenIds: readonly number[]): Uint8Array {
  let length = 0;
  for (const id of tokenIds) length += table[id]?.length ?? 0;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const id of tokenIds) {
    const bytes = table[id];
    if (!bytes) continue;
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}

/**
 * Streaming decode: a token whose bytes end mid-character yields '' and the character comes out
 * with the token that completes it (TextDecoder's stream mode keeps the partial bytes).
 */
export class TokenTextStream {
  private readonly decoder = new TextDecoder('utf-8');
  constructor(private readonly table: Uint8Array[] = gpt2TokenByteTable()) {}

  push(tokenId: number): string {
    return this.decoder.decode(this.table[tokenId] ?? new Uint8Array(0), { stream: true });
  }

  /** Ends the stream; leftover partial bytes become U+FFFD, exactly as a one-shot decode would. */
  flush(): string {
    return this.decoder.decode();
  }
}
