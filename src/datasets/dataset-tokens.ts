// Counts a dataset's GPT-2 tokens without holding the event loop: the text is cut into chunks at
// places where the tokenizer's pre-tokenizer must cut too, each chunk is counted on its own (so the
// sum is the exact count), and the loop yields between chunks. Text with no such place for a long
// stretch (one 100 kB "word") is not counted: the answer is then null, never an estimate.
import { END_OF_TEXT, getGpt2Tokenizer } from '../runtime/gpt2-tokenizer.js';

export interface TokenCountOptions {
  /** Characters counted between two yields (about; the cut goes to the nearest safe place). */
  chunkChars?: number;
  /** How far from the chunk's end a safe place is looked for; none within it: not counted. */
  windowChars?: number;
}

/**
 * A safe cut: the character before it is not whitespace and not `'` (which may start a contraction
 * such as `'s`), and the character class changes there (letter / number / other / whitespace). GPT-2's
 * pre-tokenizer (`'s|'t|…| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`) ends a piece there
 * whatever follows: only a piece of whitespace looks ahead, and it cannot hold that character.
 */
const SAFE_CUT = /(?<=[^\s'])(?:(?<=\p{L})(?!\p{L})|(?<=\p{N})(?!\p{N})|(?<=[^\s\p{L}\p{N}])(?![^\s\p{L}\p{N}]))/gu;

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The first safe cut in [from, to], or -1. */
function findCut(text: string, from: number, to: number): number {
  for (let at = from; at <= to; ) {
    SAFE_CUT.lastIndex = at;
    const found = SAFE_CUT.exec(text);
    if (!found || found.index > to) return -1;
    // In unicode mode a lastIndex inside a surrogate pair moves back to the pair's start: step past it.
    if (found.index >= at && !isLowSurrogate(text.charCodeAt(found.index))) return found.index;
    at = Math.max(at, found.index) + 1;
  }
  return -1;
}

interface Counting {
  chunk: number;
  window: number;
  /** Characters counted since the last yield. */
  sinceYield: number;
}

async function counted(state: Counting, text: string): Promise<number> {
  const n = getGpt2Tokenizer().countTokens(text, Number.MAX_SAFE_INTEGER);
  state.sinceYield += text.length;
  if (state.sinceYield >= state.chunk) {
    state.sinceYield = 0;
    await nextTurn();
  }
  return n;
}

/** Tokens of text holding no `<|endoftext|>`; null when no safe cut was found where one was needed. */
async function countOrdinary(state: Counting, text: string): Promise<number | null> {
  const { chunk, window } = state;
  let total = 0;
  let start = 0;
  while (text.length - start > chunk + window) {
    const cut = findCut(text, Math.max(start + 1, start + chunk - window), start + chunk + window);
    if (cut === -1) return null;
    total += await counted(state, text.slice(start, cut));
    start = cut;
  }
  return total + (await counted(state, text.slice(start)));
}

/**
 * GPT-2 tokens of all documents together (`<|endoftext|>` inside a document is its one special
 * token, as the tokenizer reads it), or null when some stretch of text is too long to count cheaply.
 */
export async function countDatasetTokens(documents: readonly string[], options: TokenCountOptions = {}): Promise<number | null> {
  const state: Counting = { chunk: options.chunkChars ?? 16_384, window: options.windowChars ?? 8_192, sinceYield: 0 };
  let total = 0;
  for (const doc of documents) {
    const parts = doc.split(END_OF_TEXT);
    total += parts.length - 1;
    for (const part of parts) {
      const n = await countOrdinary(state, part);
      if (n === null) return null;
      total += n;
    }
  }
  return total;
}
