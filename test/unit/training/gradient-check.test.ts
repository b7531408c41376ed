// Gradient check: the training graph's hand-written backward against central finite differences of
// the float64 reference forward pass (reference-gpt2.ts), for every kind of parameter.
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Gpt2Config, GPT2_VOCAB_SIZE } from '../../../src/runtime/gpt2-config.js';
import { type Gpt2Weights, initGpt2Weights } from '../../../src/runtime/gpt2-weights.js';
import { referenceLoss } from '../../../src/runtime/reference-gpt2.js';
import { buildGpt2TrainingGraph, gradName } from '../../../src/training/gpt2-training-graph.js';
import { packBatch } from '../../../src/training/training-data.js';
import { trainingFeeds } from '../../../src/training/training-feeds.js';

/** Small enough for float64 finite differences in milliseconds; the vocabulary stays GPT-2's. */
const CONFIG: Gpt2Config = {
  nLayer: 2,
  nHead: 2,
  nEmbd: 8,
  nPositions: 12,
  vocabSize: GPT2_VOCAB_SIZE,
  layerNormEpsilon: 1e-5,
  bosTokenId: 50256,
  eosTokenId: 50256,
};
/** Measured worst case 7e-6 relative (float32 graph vs float64 differences); zeros must be ~exact. */
const RELATIVE_TOLERANCE = 1e-4;
const ABSOLUTE_TOLERANCE = 1e-9;

/** Two rows of different lengths: the second is right-padded and its padding is not scored. */
const ROWS = [
  [464, 2068, 7586, 21831, 18045, 625, 262, 2068, 13],
  [40, 1101, 2068, 13, 464],
];

/** Token-weighted mean of the reference losses: the loss the graph reports for the padded batch. */
function batchLoss(weights: Gpt2Weights): number {
  let total = 0;
  let count = 0;
  for (const row of ROWS) {
    const { loss, tokens } = referenceLoss(CONFIG, weights, row);
    total += loss * tokens;
    count += tokens;
  }
  return total / count;
}

describe('training graph gradients vs finite differences of the float64 reference', { timeout: 60_000 }, () => {
  let weights: Gpt2Weights;
  let grads: Map<string, Float32Array>;
  let graphLoss: number;

  beforeAll(async () => {
    weights = initGpt2Weights(CONFIG, 7);
    const session = await ort.InferenceSession.create(buildGpt2TrainingGraph(CONFIG, { emitGradients: true }), { intraOpNumThreads: 1 });
    const batch = packBatch(ROWS);
    const out = await session.run(trainingFeeds(CONFIG, weights, undefined, batch, { step: 1, learningRate: 0, weightDecay: 0, maxGradNorm: Infinity }));
    graphLoss = (out.loss.data as Float32Array)[0];
    grads = new Map();
    for (const name of weights.keys()) grads.set(name, out[gradName(name)].data as Float32Array);
    await session.release();
  });

  it('reports the reference loss', () => {
    expect(Math.abs(graphLoss - batchLoss(weights))).toBeLessThan(1e-5);
  });

  /** Central difference with the float32-rounded step actually taken. */
  function finiteDifference(name: string, index: number): number {
    const data = weights.get(name)!.data;
    const original = data[index];
    const h = 1e-2 * Math.max(Math.abs(original), 0.05);
    data[index] = original + h;
    const plusStep = data[index];
    const up = batchLoss(weights);
    data[index] = original - h;
    const minusStep = data[index];
    const down = batchLoss(weights);
    data[index] = original;
    return (up - down) / (plusStep - minusStep);
  }

  const e = CONFIG.nEmbd;
  const cases: Array<[string, number[]]> = [
    // wte rows: input only (40), target only (13 is also input), both (2068), neither (0, 50000).
    ['transformer.wte.weight', [40 * e, 40 * e + 5, 2068 * e + 1, 2068 * e + 7, 13 * e + 3, 0, 50000 * e + 2, 1101 * e + 4]],
    // wpe row 8 is only the longest row's last position, which predicts nothing scored: exactly 0.
    ['transformer.wpe.weight', [0, 3, 4 * e + 1, 7 * e + 6, 8 * e + 2]],
    ['transformer.h.0.ln_1.weight', [0, 5]],
    ['transformer.h.0.ln_1.bias', [1, 7]],
    ['transformer.h.0.attn.c_attn.weight', [0, 9, 3 * e + 12, 5 * 3 * e + 20, 7 * 3 * e + 23]],
    // The key bias (index 8..15) shifts every score of a query equally: its gradient is 0.
    ['transformer.h.0.attn.c_attn.bias', [2, 10, 18]],
    ['transformer.h.1.attn.c_proj.weight', [0, 13, 60]],
    ['transformer.h.1.attn.c_proj.bias', [3]],
    ['transformer.h.1.ln_2.weight', [2, 6]],
    ['transformer.h.1.ln_2.bias', [4]],
    ['transformer.h.0.mlp.c_fc.weight', [0, 33, 200]],
    ['transformer.h.1.mlp.c_fc.bias', [1, 30]],
    ['transformer.h.0.mlp.c_proj.weight', [5, 150, 255]],
    ['transformer.h.0.mlp.c_proj.bias', [6]],
    ['transformer.ln_f.weight', [0, 7]],
    ['transformer.ln_f.bias', [3, 4]],
  ];

  it.each(cases)('%s matches at the checked elements', (name, indices) => {
    const grad = grads.get(name)!;
    let largest = 0;
    for (const index of indices) {
      const expected = finiteDifference(name, index);
      largest = Math.max(largest, Math.abs(expected));
      expect(Math.abs(grad[index] - expected)).toBeLessThanOrEqual(RELATIVE_TOLERANCE * Math.abs(expected) + ABSOLUTE_TOLERANCE);
    }
    // Every tensor has a checked element whose gradient is far above the tolerance.
    expect(largest).toBeGreaterThan(1e-6);
  });
});
