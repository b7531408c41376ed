// Byte-level BPE with the same output as js-tiktoken, in O(n log n) per pre-token instead of its
// O(n²) merge loop (which rescans and re-joins every pair after each merge: 12,000 'a's took 17 s).
// It can also stop counting once a limit is passed, so request-path checks do bounded work.

export interface BpeWork {
  /** Merges performed so far; tests bound it, never time. */
  merges: number;
}

export class BytePairEncoder {
  /** The longest token, in UTF-16 units of text it can stand for: a bound used to refuse early. */
  readonly maxTokenChars: number;
  private readonly maxTokenBytes: number;
  private readonly specialPattern: RegExp | null;
  readonly work: BpeWork = { merges: 0 };

  constructor(
    /** Token bytes as a latin1 string (one char per byte) → rank (= token id). */
    private readonly ranks: Map<string, number>,
    private readonly pattern: string,
    private readonly special: Map<string, number>,
  ) {
    let longest = 1;
    for (const bytes of ranks.keys()) longest = Math.max(longest, bytes.length);
    this.maxTokenBytes = longest;
    let longestSpecial = 0;
    for (const text of special.keys()) longestSpecial = Math.max(longestSpecial, text.length);
    // Each UTF-16 unit is at least one UTF-8 byte, so a token covers at most maxTokenBytes units.
    this.maxTokenChars = Math.max(longest, longestSpecial);
    const escaped = [...special.keys()].map((s) => s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&'));
    this.specialPattern = escaped.length ? new RegExp(escaped.join('|'), 'g') : null;
  }

  /** Token ids of `text`; `<|endoftext|>` (any special token) in the text is that token. */
  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeInto(text, out, Number.POSITIVE_INFINITY);
    return out;
  }

  /**
   * The token count of `text` if it is at most `limit`, else some number above `limit`: work stops
   * as soon as the count is known to exceed it, so a huge text costs no more than a fitting one.
   */
  countUpTo(text: string, limit: number): number {
    // Every token covers at most maxTokenChars UTF-16 units of the text, so this bound is sound.
    const atLeast = Math.ceil(text.length / this.maxTokenChars);
    if (atLeast > limit) return atLeast;
    const out: number[] = [];
    return this.encodeInto(text, out, limit);
  }

  /** Appends tokens to out until more than `limit` are there; returns the count (a lower bound once past). */
  private encodeInto(text: string, out: number[], limit: number): number {
    const special = this.specialPattern;
    if (special) special.lastIndex = 0;
    let start = 0;
    for (;;) {
      const next = special ? special.exec(text) : null;
      const end = next ? next.index : text.length;
      const counted = this.encodeOrdinary(text.slice(start, end), out, limit);
      if (counted > limit || !next) return counted;
      out.push(this.special.get(next[0]) as number);
      if (out.length > limit) return out.length;
      start = next.index + next[0].length;
    }
  }

  /** Appends the tokens of text that holds no special token; returns the count so far (a lower bound once past limit). */
  private encodeOrdinary(text: string, out: number[], limit: number): number {
    if (text.length === 0) return out.length;
    for (const match of text.matchAll(new RegExp(this.pattern, 'gu'))) {
      const bytes = Buffer.from(match[0], 'utf8').toString('latin1');
      const whole = this.ranks.get(bytes);
      if (whole !== undefined) {
        out.push(whole);
      } else {
        // A piece of n bytes is at least ceil(n / maxTokenBytes) tokens: skip merging what cannot fit.
        const atLeast = Math.ceil(bytes.length / this.maxTokenBytes);
        if (out.length + atLeast > limit) return out.length + atLeast;
        this.mergePiece(bytes, out);
      }
      if (out.length > limit) return out.length;
    }
    return out.length;
  }

  /**
   * Standard BPE: repeatedly merge the adjacent pair with the lowest rank, leftmost first. A heap of
   * (rank, start) holds every current pair; a popped entry is stale unless its part is still alive
   * and still pairs at that rank. A part's pair only ever grows, so a live (rank, start) is unique.
   */
  private mergePiece(bytes: string, out: number[]): void {
    const n = bytes.length;
    const end = new Int32Array(n);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    const pairRank = new Int32Array(n).fill(-1);
    // n - 1 initial pairs, and each merge pushes at most two more.
    const heap = new PairHeap(3 * n);
    for (let i = 0; i < n; i++) {
      end[i] = i + 1;
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const rankPair = (i: number): void => {
      const j = next[i];
      const r = j < 0 ? undefined : this.ranks.get(bytes.slice(i, end[j]));
      pairRank[i] = r ?? -1;
      if (r !== undefined) heap.push(r, i);
    };
    for (let i = 0; i + 1 < n; i++) rankPair(i);
    while (heap.size > 0) {
      const [rank, i] = heap.pop();
      if (pairRank[i] !== rank) continue;
      const j = next[i];
      end[i] = end[j];
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      pairRank[j] = -1;
      this.work.merges++;
      rankPair(i);
      if (prev[i] >= 0) rankPair(prev[i]);
    }
    for (let i = 0; i >= 0; i = next[i]) {
      const id = this.ranks.get(bytes.slice(i, end[i]));
      if (id !== undefined) out.push(id);
    }
  }
}

/** A binary min-heap of (rank, position), ordered by rank then position (leftmost first). */
class PairHeap {
  private readonly keys: Float64Array;
  size = 0;
  // Positions fit in 2^31; rank * 2^31 + position stays exact in a double for ranks below 2^22.
  private static readonly SHIFT = 2 ** 31;

  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(1, capacity));
  }

  push(rank: number, position: number): void {
    const keys = this.keys;
    const key = rank * PairHeap.SHIFT + position;
    let at = this.size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[at] = keys[parent];
      at = parent;
    }
    keys[at] = key;
  }

  pop(): [rank: number, position: number] {
    const keys = this.keys;
    const top = keys[0];
    const last = keys[--this.size];
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= last) break;
      keys[at] = keys[child];
      at = child;
    }
    keys[at] = last;
    const rank = Math.floor(top / PairHeap.SHIFT);
    return [rank, top - rank * PairHeap.SHIFT];
  }
}
