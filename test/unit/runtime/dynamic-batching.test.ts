import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';
import { createInferenceEngine, type GenerateRequest, type GenerateResult, type InferenceEngine } from '../../../src/runtime/index.js';
import { buildTinyModelInTemp } from './tiny-model-fixture.js';

const tokenizer = getGpt2Tokenizer();

/** Prompts of different lengths; greedy and seeded sampling; some rows finish much earlier than others. */
const REQUESTS: GenerateRequest[] = [
  { input: 'Hi', maxNewTokens: 6 },
  { input: 'The quick brown fox jumps over the lazy dog and keeps running', maxNewTokens: 14 },
  { input: 'Once upon a time', maxNewTokens: 10, temperature: 0.8, topK: 30, seed: 7 },
  { input: 'A', maxNewTokens: 3, temperature: 1.2, topP: 0.9, seed: 8 },
  { input: 'In the beginning there was only the tiny model', maxNewTokens: 12, temperature: 1, seed: 9 },
  { input: 'def main():\n    print(', maxNewTokens: 9 },
];

/** Long enough that rows submitted after its first token surely join while it still runs. */
const LONG_REQUEST: GenerateRequest = { input: 'Hi there', maxNewTokens: 100 };

const tokensOf = (r: GenerateResult): unknown => ({ ids: r.outputTokenIds, output: r.output, finishReason: r.finishReason });

describe('dynamic batching', { timeout: 90_000 }, () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let engine: InferenceEngine;
  const alone = new Map<GenerateRequest, GenerateResult>();
  const runAlone = async (request: GenerateRequest): Promise<GenerateResult> => {
    let result = alone.get(request);
    if (!result) {
      result = await engine.generate(request);
      alone.set(request, result);
    }
    return result;
  };

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    engine = await createInferenceEngine({ modelDir: model.dir, threads: 1, maxBatch: 8, maxWaitMs: 2 });
    // A stop sequence taken from one row's own output, so that row finishes by 'stop' mid-batch.
    const base = await runAlone(REQUESTS[4]);
    const stop = tokenizer.decode([base.outputTokenIds[5]]);
    REQUESTS.push({ ...REQUESTS[4], stop: [stop] });
    for (const request of [...REQUESTS, LONG_REQUEST]) await runAlone(request);
  }, 90_000);
  afterAll(async () => {
    await engine?.close();
    await model?.remove();
  });

  it('gives every concurrent request exactly the tokens it gets alone', async () => {
    let peak = 0;
    const results = await Promise.all(
      REQUESTS.map((request) => engine.generate(request, { onToken: () => (peak = Math.max(peak, engine.stats().runningRequests)) })),
    );
    expect(peak).toBe(REQUESTS.length); // all rows decoded in one batch
    expect(alone.get(REQUESTS[6])?.finishReason).toBe('stop');
    for (const [i, request] of REQUESTS.entries()) expect(tokensOf(results[i])).toEqual(tokensOf(alone.get(request)!));
  });

  it('merges requests that arrive mid-generation into the running batch without changing anyone', async () => {
    const late: Array<Promise<GenerateResult>> = [];
    let firstDone = false;
    let overlapped = false;
    const first = engine.generate(LONG_REQUEST, {
      onToken: () => {
        if (late.length > 0) return;
        for (const request of [REQUESTS[2], REQUESTS[5]]) {
          late.push(engine.generate(request, { onToken: () => (overlapped ||= !firstDone) }));
        }
      },
    });
    const a = await first;
    firstDone = true;
    const [b, c] = await Promise.all(late);
    expect(overlapped).toBe(true); // the late rows decoded while the first was still running
    expect(tokensOf(a)).toEqual(tokensOf(alone.get(LONG_REQUEST)!));
    expect(tokensOf(b)).toEqual(tokensOf(alone.get(REQUESTS[2])!));
    expect(tokensOf(c)).toEqual(tokensOf(alone.get(REQUESTS[5])!));
  });

  it('never runs more than maxBatch requests at once; the rest wait and still match', async () => {
    const small = await createInferenceEngine({ modelDir: model.dir, threads: 1, maxBatch: 2, maxWaitMs: 1 });
    try {
      let peak = 0;
      let queuedSeen = 0;
      const observe = (): void => {
        const stats = small.stats();
        peak = Math.max(peak, stats.runningRequests);
        queuedSeen = Math.max(queuedSeen, stats.queuedRequests);
      };
      const results = await Promise.all(REQUESTS.map((request) => small.generate(request, { onToken: observe })));
      expect(peak).toBe(2);
      expect(queuedSeen).toBeGreaterThan(0);
      for (const [i, request] of REQUESTS.entries()) expect(tokensOf(results[i])).toEqual(tokensOf(alone.get(request)!));
    } finally {
      await small.close();
    }
  });
});
