import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ort from 'onnxruntime-node';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';
import {
  ContextLengthError,
  createInferenceEngine,
  EngineUnavailableError,
  type InferenceEngine,
  InvalidParameterError,
} from '../../../src/runtime/index.js';
import { createSeededRandom } from '../../../src/runtime/seeded-random.js';
import { argmax, sampleToken, wholeRow } from '../../../src/runtime/token-sampler.js';
import { buildTinyModelInTemp, fullLogits, openSession } from './tiny-model-fixture.js';

const tokenizer = getGpt2Tokenizer();
const PROMPT = 'The quick brown fox';
const SAMPLING = { temperature: 0.9, topK: 40, topP: 0.95, seed: 1234 };

describe('generate', { timeout: 60_000 }, () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let engine: InferenceEngine;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    engine = await createInferenceEngine({ modelDir: model.dir, threads: 1, maxBatch: 4, maxWaitMs: 2 });
    session = await openSession(model.onnxPath);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await session?.release();
    await model?.remove();
  });

  it('reports the model it serves', () => {
    expect(engine.info).toEqual({
      weightsSha256: model.weightsSha256,
      contextLength: 128,
      vocabSize: 50257,
      nLayer: 2,
      nHead: 4,
      nEmbd: 64,
      eosTokenId: 50256,
      runtime: { name: 'onnxruntime-node', version: '1.30.0' },
    });
    expect(engine.countTokens('Hello world')).toBe(2);
  });

  it('greedy KV-cache decoding equals full recomputation without a cache', async () => {
    const result = await engine.generate({ input: PROMPT, maxNewTokens: 12 });
    const ids = tokenizer.encode(PROMPT);
    const expected: number[] = [];
    for (let step = 0; step < 12; step++) {
      const logits = await fullLogits(session, [...ids, ...expected]);
      expected.push(argmax(wholeRow(logits[logits.length - 1])));
    }
    expect(result.outputTokenIds).toEqual(expected);
    expect(result.output).toBe(tokenizer.decode(expected));
    expect(result).toMatchObject({ inputTokens: ids.length, outputTokens: 12, finishReason: 'length' });
  });

  it('seeded sampling with the KV cache equals sampling over recomputed logits with the same PRNG', async () => {
    const result = await engine.generate({ input: PROMPT, maxNewTokens: 8, ...SAMPLING });
    const ids = tokenizer.encode(PROMPT);
    const random = createSeededRandom(SAMPLING.seed);
    const expected: number[] = [];
    for (let step = 0; step < 8; step++) {
      const logits = await fullLogits(session, [...ids, ...expected]);
      expected.push(sampleToken(wholeRow(logits[logits.length - 1]), SAMPLING, random));
    }
    expect(result.outputTokenIds).toEqual(expected);
  });

  it('is deterministic across engines and thread counts, greedy and seeded', async () => {
    const other = await createInferenceEngine({ modelDir: model.dir, threads: 2 });
    try {
      for (const params of [{}, SAMPLING, { ...SAMPLING, seed: 99 }]) {
        const a = await engine.generate({ input: PROMPT, maxNewTokens: 10, ...params });
        const b = await other.generate({ input: PROMPT, maxNewTokens: 10, ...params });
        expect(b.output).toBe(a.output);
        expect(b.outputTokenIds).toEqual(a.outputTokenIds);
      }
      const seedA = await engine.generate({ input: PROMPT, maxNewTokens: 10, ...SAMPLING });
      const seedB = await engine.generate({ input: PROMPT, maxNewTokens: 10, ...SAMPLING, seed: 99 });
      expect(seedB.outputTokenIds).not.toEqual(seedA.outputTokenIds);
    } finally {
      await other.close();
    }
  });

  it('streams one callback per token whose texts concatenate to the output', async () => {
    const streamed: Array<[string, number]> = [];
    const result = await engine.generate(
      { input: 'Once upon a time', maxNewTokens: 9, ...SAMPLING },
      { onToken: (text, tokenId) => streamed.push([text, tokenId]) },
    );
    expect(streamed.map(([, id]) => id)).toEqual(result.outputTokenIds);
    expect(streamed.map(([text]) => text).join('')).toBe(result.output);
    expect(result.outputTokens).toBe(9);
  });

  it('stops at a stop sequence, without the stop text, and streams only text before it', async () => {
    const baseline = await engine.generate({ input: PROMPT, maxNewTokens: 16, ...SAMPLING });
    // Pick a later token's own text as the stop sequence.
    const at = baseline.outputTokenIds.findIndex((id, i) => i >= 4 && /^[ -~]{2,}$/.test(tokenizer.decode([id])));
    expect(at).toBeGreaterThan(0);
    const stop = tokenizer.decode([baseline.outputTokenIds[at]]);
    const expectedOutput = baseline.output.slice(0, baseline.output.indexOf(stop));
    const completing = baseline.outputTokenIds.findIndex((_, i) => tokenizer.decode(baseline.outputTokenIds.slice(0, i + 1)).includes(stop));
    const streamed: string[] = [];
    const result = await engine.generate(
      { input: PROMPT, maxNewTokens: 16, ...SAMPLING, stop: ['never appears', stop] },
      { onToken: (text) => streamed.push(text) },
    );
    expect(result.finishReason).toBe('stop');
    expect(result.output).toBe(expectedOutput);
    expect(result.output).not.toContain(stop);
    expect(streamed.join('')).toBe(result.output);
    expect(result.outputTokenIds).toEqual(baseline.outputTokenIds.slice(0, completing + 1));
  });

  it('honours maxNewTokens and bounds input + output by the context length', async () => {
    const longInput = `a${' a'.repeat(119)}`; // 120 tokens
    expect(engine.countTokens(longInput)).toBe(120);
    const result = await engine.generate({ input: longInput, maxNewTokens: 50 });
    expect(result).toMatchObject({ inputTokens: 120, outputTokens: 8, finishReason: 'length' });
    const short = await engine.generate({ input: PROMPT, maxNewTokens: 3 });
    expect(short).toMatchObject({ outputTokens: 3, finishReason: 'length' });
  });

  it('rejects an input that leaves no room in the context with a ContextLengthError naming the limit', async () => {
    const error = await engine.generate({ input: `a${' a'.repeat(129)}`, maxNewTokens: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContextLengthError);
    expect(error).toMatchObject({ limit: 128, requested: 130, code: 'context_length_exceeded' });
    expect((error as Error).message).toContain('128');
  });

  it('rejects invalid parameters with the field name', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ maxNewTokens: 0 }, 'maxNewTokens'],
      [{ maxNewTokens: 2, temperature: -1 }, 'temperature'],
      [{ maxNewTokens: 2, topP: 0 }, 'topP'],
      [{ maxNewTokens: 2, topK: 1.5 }, 'topK'],
      [{ maxNewTokens: 2, seed: -3 }, 'seed'],
      [{ maxNewTokens: 2, stop: [''] }, 'stop[0]'],
    ];
    for (const [params, field] of cases) {
      const error = await engine.generate({ input: 'x', ...params } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidParameterError);
      expect((error as InvalidParameterError).field).toBe(field);
    }
  });

  it('cancels between steps on abort and reports finishReason cancelled', async () => {
    const controller = new AbortController();
    const streamed: string[] = [];
    const result = await engine.generate(
      { input: PROMPT, maxNewTokens: 100 },
      {
        signal: controller.signal,
        onToken: (text) => {
          streamed.push(text);
          if (streamed.length === 3) controller.abort();
        },
      },
    );
    expect(result.finishReason).toBe('cancelled');
    expect(result.outputTokens).toBeGreaterThanOrEqual(3);
    expect(result.outputTokens).toBeLessThan(100);
    expect(result.output).toBe(streamed.join(''));
    const already = await engine.generate({ input: PROMPT, maxNewTokens: 5 }, { signal: AbortSignal.abort() });
    expect(already).toMatchObject({ finishReason: 'cancelled', outputTokens: 0, output: '' });
  });
});

describe('generate until EOS', { timeout: 60_000 }, () => {
  it('stops at <|endoftext|> without emitting its text', async () => {
    // ln_f that always outputs the EOS embedding makes EOS the argmax at every position.
    const model = await buildTinyModelInTemp({
      mutateWeights: (w) => {
        const eos = w.get('transformer.wte.weight')!.data.subarray(50256 * 64, 50257 * 64);
        w.get('transformer.ln_f.weight')!.data.fill(0);
        w.get('transformer.ln_f.bias')!.data.set(eos.map((v) => v * 10));
      },
    });
    const engine = await createInferenceEngine({ modelDir: model.dir });
    try {
      const result = await engine.generate({ input: PROMPT, maxNewTokens: 10 });
      expect(result).toMatchObject({ finishReason: 'eos', output: '', outputTokenIds: [50256], outputTokens: 1 });
    } finally {
      await engine.close();
      await model.remove();
    }
  });
});

describe('close', { timeout: 60_000 }, () => {
  it('ends running and queued generations as cancelled, then refuses new work', async () => {
    const model = await buildTinyModelInTemp();
    const engine = await createInferenceEngine({ modelDir: model.dir, maxBatch: 1 });
    try {
      let closing: Promise<void> | undefined;
      const running = engine.generate({ input: PROMPT, maxNewTokens: 100 }, { onToken: () => (closing ??= engine.close()) });
      const queued = engine.generate({ input: PROMPT, maxNewTokens: 100 });
      const [a, b] = await Promise.all([running, queued]);
      await closing;
      expect(a.finishReason).toBe('cancelled');
      expect(a.outputTokens).toBeLessThan(100);
      expect(b).toMatchObject({ finishReason: 'cancelled', outputTokens: 0 });
      await expect(engine.generate({ input: 'x', maxNewTokens: 1 })).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(engine.evaluate({ texts: ['two tokens'] })).rejects.toBeInstanceOf(EngineUnavailableError);
    } finally {
      await engine.close();
      await model.remove();
    }
  });
});
