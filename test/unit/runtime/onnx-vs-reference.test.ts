import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveEvalGraph } from '../../../src/runtime/eval-graph-deriver.js';
import { logSoftmax, referenceLogits } from '../../../src/runtime/reference-gpt2.js';
import { buildTinyModelInTemp, noPastFeeds, openSession } from './tiny-model-fixture.js';

const VOCAB = 50257;
const IDS = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13];

function maxAbsDiff(onnx: Float32Array, offset: number, reference: Float64Array): number {
  let max = 0;
  for (let v = 0; v < VOCAB; v++) max = Math.max(max, Math.abs(onnx[offset + v] - reference[v]));
  return max;
}

describe('ONNX graph vs the float64 reference forward pass', { timeout: 60_000 }, () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let session: ort.InferenceSession;
  let reference: Float64Array[];

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    session = await openSession(model.onnxPath);
    reference = referenceLogits(model.config, model.weights, IDS);
  }, 60_000);
  afterAll(async () => {
    await session?.release();
    await model?.remove();
  });

  it('has the Optimum decoder-with-past inputs and outputs', () => {
    expect(session.inputNames).toEqual([
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
    ]);
    expect(session.outputNames).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
  });

  it('matches the reference logits at every position to ~1e-6', async () => {
    const out = await session.run(noPastFeeds([IDS]));
    expect(out.logits.dims).toEqual([1, IDS.length, VOCAB]);
    expect(out['present.1.value'].dims).toEqual([1, 4, IDS.length, 16]);
    let worst = 0;
    for (let t = 0; t < IDS.length; t++) worst = Math.max(worst, maxAbsDiff(out.logits.data as Float32Array, t * VOCAB, reference[t]));
    expect(worst).toBeLessThan(2e-6);
  });

  it('gives the same logits through the KV cache (prefill then one token at a time)', async () => {
    const split = 4;
    let out = await session.run(noPastFeeds([IDS.slice(0, split)]));
    let worst = maxAbsDiff(out.logits.data as Float32Array, (split - 1) * VOCAB, reference[split - 1]);
    for (let t = split; t < IDS.length; t++) {
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(IDS[t])), [1, 1]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(t + 1).fill(1n), [1, t + 1]),
        position_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1, 1]),
      };
      for (let i = 0; i < 2; i++) {
        feeds[`past_key_values.${i}.key`] = out[`present.${i}.key`];
        feeds[`past_key_values.${i}.value`] = out[`present.${i}.value`];
      }
      out = await session.run(feeds);
      worst = Math.max(worst, maxAbsDiff(out.logits.data as Float32Array, 0, reference[t]));
    }
    expect(worst).toBeLessThan(2e-6);
  });

  it('masks left padding: a padded row matches the reference of the unpadded sequence', async () => {
    const short = IDS.slice(0, 6);
    const out = await session.run(noPastFeeds([IDS, short]));
    const data = out.logits.data as Float32Array;
    const padding = IDS.length - short.length;
    let worst = 0;
    for (let t = 0; t < short.length; t++) worst = Math.max(worst, maxAbsDiff(data, (IDS.length + padding + t) * VOCAB, reference[t]));
    expect(worst).toBeLessThan(2e-6);
  });

  it('derives an evaluation graph whose token log-probs equal log_softmax(reference logits) at the labels', async () => {
    const evalSession = await openSession(deriveEvalGraph(await readFile(model.onnxPath), model.config));
    try {
      expect(evalSession.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', 'labels']);
      expect(evalSession.outputNames).toEqual(['token_logprobs']);
      const n = IDS.length - 1;
      const int64 = (values: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, n]);
      const out = await evalSession.run({
        input_ids: int64(IDS.slice(0, n)),
        attention_mask: int64(Array(n).fill(1)),
        position_ids: int64([...Array(n).keys()]),
        labels: int64(IDS.slice(1)),
      });
      const logprobs = out.token_logprobs.data as Float32Array;
      expect(logprobs).toHaveLength(n);
      for (let t = 0; t < n; t++) expect(logprobs[t]).toBeCloseTo(logSoftmax(reference[t])[IDS[t + 1]], 5);
    } finally {
      await evalSession.release();
    }
  });
});
