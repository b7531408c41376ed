// Plans loss/perplexity evaluation like GPT2LMHeadModel(labels=ids): every token after the first is
// scored exactly once. Texts longer than the context are cut into sliding windows (the Hugging Face
// perplexity guide's strided scheme): the first window scores tokens 1..ctx; each later window
// scores the next `stride` tokens and is filled with as much left context as fits (ctx tokens), so
// a scored token always sees at least ctx - stride + 1 earlier tokens.
import type { EvalBatch } from './session-thread-protocol.js';

export interface EvalWindow {
  text: number;
  /** Window input: tokens [start, start + inputIds.length) of the text. */
  start: number;
  inputIds: number[];
  /** Position j predicts text token start + j + 1; positions >= firstScored are scored. */
  firstScored: number;
}

export function planEvalWindows(texts: number[][], contextLength: number, stride: number): EvalWindow[] {
  const windows: EvalWindow[] = [];
  texts.forEach((ids, text) => {
    // Targets [a, b) per window; input is ids[s, b - 1) with s as far left as the context allows.
    let a = 1;
    while (a < ids.length) {
      const b = Math.min(ids.length, a === 1 ? contextLength + 1 : a + stride);
      const s = Math.max(0, b - 1 - contextLength);
      windows.push({ text, start: s, inputIds: ids.slice(s, b - 1), firstScored: a - 1 - s });
      a = b;
    }
  });
  return windows;
}

/** Groups windows of similar length (longest first) under a row cap and a tokens-per-batch budget. */
export function groupEvalWindows(windows: EvalWindow[], maxRows: number, tokenBudget: number): number[][] {
  const order = windows.map((_, i) => i).sort((x, y) => windows[y].inputIds.length - windows[x].inputIds.length || x - y);
  const groups: number[][] = [];
  let current: number[] = [];
  for (const index of order) {
    const longest = current.length > 0 ? windows[current[0]].inputIds.length : windows[index].inputIds.length;
    if (current.length > 0 && (current.length >= maxRows || (current.length + 1) * longest > tokenBudget)) {
      groups.push(current);
      current = [];
    }
    current.push(index);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Right-padded batch (padding after the real tokens never reaches them through the causal mask). */
export function buildEvalBatch(windows: EvalWindow[], texts: number[][], padTokenId: number): EvalBatch {
  const length = Math.max(...windows.map((w) => w.inputIds.length));
  const batch = windows.length;
  const inputIds = new BigInt64Array(batch * length).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(batch * length);
  const labels = new BigInt64Array(batch * length);
  windows.forEach((w, b) => {
    const ids = texts[w.text];
    w.inputIds.forEach((id, j) => {
      inputIds[b * length + j] = BigInt(id);
      attentionMask[b * length + j] = 1n;
      labels[b * length + j] = BigInt(ids[w.start + j + 1]);
    });
  });
  return { batch, length, inputIds, attentionMask, labels };
}

export interface TextScore {
  loss: number;
  perplexity: number;
  tokens: number;
}

/** Sums negative log-likelihoods in plan order (text, window, position): independent of batching. */
export function aggregateEvalScores(
  windows: EvalWindow[],
  logprobs: Float32Array[],
  textCount: number,
): { overall: TextScore; results: TextScore[] } {
  const nll = new Float64Array(textCount);
  const counts = new Array<number>(textCount).fill(0);
  windows.forEach((w, i) => {
    for (let j = w.firstScored; j < w.inputIds.length; j++) {
      nll[w.text] -= logprobs[i][j];
      counts[w.text]++;
    }
  });
  const score = (sum: number, tokens: number): TextScore => ({ loss: sum / tokens, perplexity: Math.exp(sum / tokens), tokens });
  const results = counts.map((tokens, t) => score(nll[t], tokens));
  const total = counts.reduce((a, b) => a + b, 0);
  return { overall: score(nll.reduce((a, b) => a + b, 0), total), results };
}
