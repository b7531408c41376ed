import type * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planEvalWindows } from '../../../src/runtime/evaluation-planner.js';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';
import { CancelledError, createInferenceEngine, type InferenceEngine, InvalidParameterError } from '../../../src/runtime/index.js';
import { logSoftmax, referenceLoss } from '../../../src/runtime/reference-gpt2.js';
import { buildTinyModelInTemp, fullLogits, openSession } from './tiny-model-fixture.js';

const tokenizer = getGpt2Tokenizer();
const TEXTS = ['Hello world, this is a short test.', 'Perplexity measures how surprised the model is by each next token in a text.'];
const LONG_TEXT = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} talks about tiny models.`).join(' ');

/** Mean next-token loss of the given targets, from full logits of the window (manual log-softmax). */
async function manualWindowNll(session: ort.InferenceSession, ids: number[], start: number, end: number, firstTarget: number) {
  const logits = await fullLogits(session, ids.slice(start, end - 1));
  let nll = 0;
  for (let t = firstTarget; t < end; t++) nll -= logSoftmax(Float64Array.from(logits[t - 1 - start]))[ids[t]];
  return { nll, count: end - firstTarget };
}

describe('evaluate', { timeout: 60_000 }, () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let engine: InferenceEngine;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    engine = await createInferenceEngine({ modelDir: model.dir, maxBatch: 4 });
    session = await openSession(model.onnxPath);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await session?.release();
    await model?.remove();
  });

  it('scores tokens 1..n-1 of each text like GPT2LMHeadModel(labels), matching the float64 reference', async () => {
    const result = await engine.evaluate({ texts: TEXTS });
    const refs = TEXTS.map((text) => referenceLoss(model.config, model.weights, tokenizer.encode(text)));
    result.results.forEach((r, i) => {
      expect(r.tokens).toBe(refs[i].tokens);
      expect(r.loss).toBeCloseTo(refs[i].loss, 5);
      expect(r.perplexity).toBeCloseTo(Math.exp(refs[i].loss), 1);
    });
    const total = refs[0].tokens + refs[1].tokens;
    expect(result.tokens).toBe(total);
    expect(result.loss).toBeCloseTo((refs[0].loss * refs[0].tokens + refs[1].loss * refs[1].tokens) / total, 5);
    expect(result.perplexity).toBeCloseTo(Math.exp(result.loss), 8);
  });

  it('gives each text the same score batched with others or alone', async () => {
    const together = await engine.evaluate({ texts: [...TEXTS, LONG_TEXT] });
    for (const [i, text] of [...TEXTS, LONG_TEXT].entries()) {
      const alone = await engine.evaluate({ texts: [text] });
      expect(together.results[i].tokens).toBe(alone.tokens);
      expect(together.results[i].loss).toBeCloseTo(alone.loss, 6);
    }
  });

  it('runs alongside a generation on the same session thread without disturbing either', async () => {
    const evalAlone = await engine.evaluate({ texts: TEXTS });
    const genAlone = await engine.generate({ input: TEXTS[0], maxNewTokens: 30 });
    const [evalBusy, genBusy] = await Promise.all([engine.evaluate({ texts: TEXTS }), engine.generate({ input: TEXTS[0], maxNewTokens: 30 })]);
    expect(evalBusy.loss).toBeCloseTo(evalAlone.loss, 6);
    expect(genBusy.outputTokenIds).toEqual(genAlone.outputTokenIds);
  });

  it('scores a text longer than the context in sliding windows, each token once', async () => {
    const ids = tokenizer.encode(LONG_TEXT);
    expect(ids.length).toBeGreaterThan(300);
    const result = await engine.evaluate({ texts: [LONG_TEXT] });
    expect(result.tokens).toBe(ids.length - 1);
    // Windows: targets 1..128 from the first 128 tokens, then 64 targets per window with a full 128-token context.
    let nll = 0;
    let count = 0;
    const first = await manualWindowNll(session, ids, 0, 129, 1);
    nll += first.nll;
    count += first.count;
    for (let a = 129; a < ids.length; a += 64) {
      const b = Math.min(ids.length, a + 64);
      const w = await manualWindowNll(session, ids, b - 1 - 128, b, a);
      nll += w.nll;
      count += w.count;
    }
    expect(count).toBe(ids.length - 1);
    expect(result.loss).toBeCloseTo(nll / count, 5);
  });

  it('plans windows that score every token exactly once with at least context - stride + 1 tokens of context', () => {
    const ids = Array.from({ length: 517 }, (_, i) => i);
    const windows = planEvalWindows([ids], 128, 48);
    const scored = new Map<number, number>();
    for (const w of windows) {
      expect(w.inputIds.length).toBeLessThanOrEqual(128);
      for (let j = w.firstScored; j < w.inputIds.length; j++) {
        const target = w.start + j + 1;
        scored.set(target, (scored.get(target) ?? 0) + 1);
        if (w.start > 0) expect(j + 1).toBeGreaterThanOrEqual(128 - 48 + 1);
      }
    }
    expect([...scored.keys()].sort((a, b) => a - b)).toEqual(ids.slice(1));
    expect([...scored.values()].every((n) => n === 1)).toBe(true);
  });

  it('rejects texts with fewer than 2 tokens and honours an aborted signal', async () => {
    const error = await engine.evaluate({ texts: ['fine text here', 'x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).field).toBe('texts[1]');
    await expect(engine.evaluate({ texts: TEXTS }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CancelledError);
  });
});
