// Picks the next token from one row of logits: greedy argmax, or seeded sampling with temperature,
// then top-k, then top-p (the order of Hugging Face's logits warpers). Deterministic: the kept set
// is the top n tokens in a canonical order (probability descending, token id ascending) and the
// draw walks the kept token ids in ascending order. No full-vocabulary sort: top-k uses a bounded
// heap, top-p a three-way quickselect on probability mass.
import type { SeededRandom } from './seeded-random.js';

export interface SamplingParams {
  /** 0 means greedy. */
  temperature: number;
  /** 0 means no top-k cut. */
  topK: number;
  /** 1 means no nucleus cut. */
  topP: number;
}

/**
 * One row of a logits tensor: `vocab` values from `offset` of the tensor's data. Rows are read in
 * place (indexing the whole buffer is ~3x faster in V8 than a subarray view per row).
 */
export interface LogitsRow {
  data: Float32Array;
  offset: number;
  vocab: number;
}

export const wholeRow = (logits: Float32Array): LogitsRow => ({ data: logits, offset: 0, vocab: logits.length });

/** First index of the maximum (ties go to the lower token id). */
export function argmax(row: LogitsRow): number {
  const { data, offset } = row;
  const end = offset + row.vocab;
  let best = offset;
  let bestValue = data[offset];
  for (let i = offset + 1; i < end; i++) {
    const v = data[i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best - offset;
}

/** softmax(logits / temperature) in float64. */
export function temperedProbabilities(row: LogitsRow, temperature: number): Float64Array {
  const { data, offset, vocab } = row;
  const probs = new Float64Array(vocab);
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, data[offset + i]);
  let sum = 0;
  for (let i = 0; i < vocab; i++) {
    probs[i] = Math.exp((data[offset + i] - max) / temperature);
    sum += probs[i];
  }
  for (let i = 0; i < vocab; i++) probs[i] /= sum;
  return probs;
}

export function sampleToken(row: LogitsRow, params: SamplingParams, random: SeededRandom | undefined): number {
  if (params.temperature === 0 || !random) return argmax(row);
  const probs = temperedProbabilities(row, params.temperature);
  const vocab = probs.length;
  const kept = new Uint8Array(vocab);
  if (params.topK > 0 && params.topK < vocab) {
    const top = topKCanonical(probs, params.topK);
    let mass = 0;
    for (const i of top) mass += probs[i];
    let reached = 0;
    // Top-p after top-k works on the renormalized top-k distribution, as HF's warpers do.
    for (const i of top) {
      kept[i] = 1;
      reached += probs[i];
      if (params.topP < 1 && reached >= params.topP * mass) break;
    }
  } else if (params.topP < 1) {
    const { threshold, ties } = nucleusThreshold(probs, params.topP);
    let tiesLeft = ties;
    for (let i = 0; i < vocab; i++) {
      if (probs[i] > threshold || (probs[i] === threshold && tiesLeft-- > 0)) kept[i] = 1;
    }
  } else {
    kept.fill(1);
  }
  let keptMass = 0;
  for (let i = 0; i < vocab; i++) if (kept[i]) keptMass += probs[i];
  const target = random.nextFloat() * keptMass;
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < vocab; i++) {
    if (!kept[i]) continue;
    cumulative += probs[i];
    last = i;
    if (target < cumulative) return i;
  }
  return last; // rounding left the target at the very end of the kept mass
}

/** Whether (pa, a) ranks above (pb, b) in the canonical order. */
const ranksAbove = (pa: number, a: number, pb: number, b: number): boolean => pa > pb || (pa === pb && a < b);

/** The k best token ids in canonical order, via a size-k min-heap. */
export function topKCanonical(probs: Float64Array, k: number): number[] {
  const heap: number[] = []; // heap[0] is the worst of the kept
  const worse = (x: number, y: number): boolean => ranksAbove(probs[y], y, probs[x], x);
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l], heap[m])) m = l;
      if (r < heap.length && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < probs.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let c = heap.length - 1; c > 0; ) {
        const parent = (c - 1) >> 1;
        if (!worse(heap[c], heap[parent])) break;
        [heap[c], heap[parent]] = [heap[parent], heap[c]];
        c = parent;
      }
    } else if (ranksAbove(probs[i], i, probs[heap[0]], heap[0])) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (ranksAbove(probs[a], a, probs[b], b) ? -1 : 1));
}

/**
 * The smallest canonical prefix whose mass reaches `topP`, as the probability of its last member
 * and how many tokens of exactly that probability it takes (lowest ids first).
 */
export function nucleusThreshold(probs: Float64Array, topP: number): { threshold: number; ties: number } {
  const a = Float64Array.from(probs);
  let lo = 0;
  let hi = a.length;
  let need = topP;
  for (;;) {
    // In-place three-way partition of a[lo, hi) into [> pivot][= pivot][< pivot].
    const pivot = a[(lo + hi) >> 1];
    let lt = lo;
    let i = lo;
    let gt = hi;
    let massAbove = 0;
    while (i < gt) {
      const v = a[i];
      if (v > pivot) {
        a[i++] = a[lt];
        a[lt++] = v;
        massAbove += v;
      } else if (v < pivot) {
        a[i] = a[--gt];
        a[gt] = v;
      } else i++;
    }
    if (massAbove >= need) {
      hi = lt; // the prefix ends among the larger values
      continue;
    }
    const equal = gt - lt;
    if (massAbove + equal * pivot >= need || gt === hi) {
      return { threshold: pivot, ties: Math.min(equal, Math.max(1, Math.ceil((need - massAbove) / pivot))) };
    }
    need -= massAbove + equal * pivot;
    lo = gt;
  }
}
