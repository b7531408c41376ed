// One training step's AdamW update (weight decay, clipping, bias correction) against the same
// update computed in float64 from the graph's own gradients, as torch.optim.AdamW defines it.
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Gpt2Config, GPT2_VOCAB_SIZE } from '../../../src/runtime/gpt2-config.js';
import { type Gpt2Weights, initGpt2Weights } from '../../../src/runtime/gpt2-weights.js';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, adamMName, adamVName, isDecayed, updatedName } from '../../../src/training/adamw-graph.js';
import { buildGpt2TrainingGraph, gradName } from '../../../src/training/gpt2-training-graph.js';
import { packBatch } from '../../../src/training/training-data.js';
import { type AdamMoments, type StepScalars, trainingFeeds } from '../../../src/training/training-feeds.js';

const CONFIG: Gpt2Config = { nLayer: 1, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: GPT2_VOCAB_SIZE, layerNormEpsilon: 1e-5, bosTokenId: 50256, eosTokenId: 50256 };
const BATCH = packBatch([
  [464, 2068, 7586, 21831, 18045, 625],
  [40, 1101, 2068, 13],
]);

/** Non-zero moments, so step 3's bias correction and the moment decay both matter. */
function seededMoments(weights: Gpt2Weights): AdamMoments {
  const m: Gpt2Weights = new Map();
  const v: Gpt2Weights = new Map();
  for (const [name, t] of weights) {
    m.set(name, { shape: t.shape, data: t.data.map((x, i) => ((i % 7) - 3) * 1e-3 + x * 1e-2) });
    v.set(name, { shape: t.shape, data: t.data.map((_, i) => ((i % 5) + 1) * 1e-6) });
  }
  return { m, v };
}

describe('AdamW in the training graph', { timeout: 60_000 }, () => {
  let session: ort.InferenceSession;
  let weights: Gpt2Weights;
  let moments: AdamMoments;

  beforeAll(async () => {
    session = await ort.InferenceSession.create(buildGpt2TrainingGraph(CONFIG, { emitGradients: true }), { intraOpNumThreads: 1 });
    weights = initGpt2Weights(CONFIG, 11);
    moments = seededMoments(weights);
  });

  async function checkStep(scalars: StepScalars): Promise<{ clipCoefficient: number }> {
    const out = await session.run(trainingFeeds(CONFIG, weights, moments, BATCH, scalars));
    let squares = 0;
    for (const name of weights.keys()) for (const g of out[gradName(name)].data as Float32Array) squares += g * g;
    const norm = Math.sqrt(squares);
    const graphNorm = (out.grad_norm.data as Float32Array)[0];
    expect(Math.abs(graphNorm - norm)).toBeLessThanOrEqual(2e-5 * norm);
    // The coefficient from the graph's own (float32) norm, so the comparison below sees only the update.
    const clip = Math.min(1, scalars.maxGradNorm / (graphNorm + 1e-6));
    const bc1 = 1 - ADAM_BETA1 ** scalars.step;
    const bc2 = 1 - ADAM_BETA2 ** scalars.step;
    for (const [name, tensor] of weights) {
      const grad = out[gradName(name)].data as Float32Array;
      const m0 = moments.m.get(name)!.data;
      const v0 = moments.v.get(name)!.data;
      const [p1, m1, v1] = [updatedName(name), updatedName(adamMName(name)), updatedName(adamVName(name))].map((n) => out[n].data as Float32Array);
      for (let i = 0; i < tensor.data.length; i += Math.max(1, Math.floor(tensor.data.length / 50))) {
        const g = grad[i] * clip;
        const m = ADAM_BETA1 * m0[i] + (1 - ADAM_BETA1) * g;
        const v = ADAM_BETA2 * v0[i] + (1 - ADAM_BETA2) * g * g;
        const decay = isDecayed(name) ? 1 - scalars.learningRate * scalars.weightDecay : 1;
        const update = (scalars.learningRate / bc1) * (m / (Math.sqrt(v) / Math.sqrt(bc2) + ADAM_EPSILON));
        const p = tensor.data[i] * decay - update;
        // Tolerances scale with the terms, not the result: m and p can be small differences of larger terms.
        expect(Math.abs(m1[i] - m)).toBeLessThanOrEqual(1e-6 * (ADAM_BETA1 * Math.abs(m0[i]) + (1 - ADAM_BETA1) * Math.abs(g)) + 1e-12);
        expect(Math.abs(v1[i] - v)).toBeLessThanOrEqual(1e-6 * Math.abs(v) + 1e-15);
        // float32 rounding of the update and of the parameter, nothing more.
        expect(Math.abs(p1[i] - p)).toBeLessThanOrEqual(1e-5 * Math.abs(update) + 1e-6 * Math.abs(p) + 1e-10);
      }
    }
    return { clipCoefficient: clip };
  }

  it('matches torch.optim.AdamW without clipping', async () => {
    const { clipCoefficient } = await checkStep({ step: 3, learningRate: 0.01, weightDecay: 0.1, maxGradNorm: Number.POSITIVE_INFINITY });
    expect(clipCoefficient).toBe(1);
  });

  it('clips by the global norm before the update', async () => {
    const { clipCoefficient } = await checkStep({ step: 1, learningRate: 0.005, weightDecay: 0, maxGradNorm: 0.05 });
    expect(clipCoefficient).toBeLessThan(0.5);
  });

  it('decays matrices only, never biases or layer-norm gains', () => {
    expect(isDecayed('transformer.wte.weight')).toBe(true);
    expect(isDecayed('transformer.h.0.attn.c_attn.weight')).toBe(true);
    expect(isDecayed('transformer.h.0.ln_1.weight')).toBe(false);
    expect(isDecayed('transformer.ln_f.weight')).toBe(false);
    expect(isDecayed('transformer.h.0.mlp.c_fc.bias')).toBe(false);
  });
});
