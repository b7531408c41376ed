// Shared by the trainer tests: a small GPT-2 with the full GPT-2 vocabulary, a few sentences to
// train on and two held-out ones, and a request builder.
import { type Gpt2Config, GPT2_VOCAB_SIZE } from '../../../src/runtime/gpt2-config.js';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';
import { initGpt2Weights } from '../../../src/runtime/gpt2-weights.js';
import { cutWindows, tokenizeDocuments } from '../../../src/training/training-data.js';
import type { TrainingHyperparameters, TrainingRequest } from '../../../src/training/training-loop.js';

export const CONFIG: Gpt2Config = {
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
  nPositions: 32,
  vocabSize: GPT2_VOCAB_SIZE,
  layerNormEpsilon: 1e-5,
  bosTokenId: 50256,
  eosTokenId: 50256,
};
export const PARENT_SEED = 5;
const TEXTS = [
  'The weather today is cold and grey, and the wind comes off the sea.',
  'The train to the coast leaves at nine and arrives before noon.',
  'She planted tomatoes, beans and basil in the small garden behind the house.',
  'The library opens early on Saturday and closes late on Thursday.',
];
export const EVAL_TEXTS = ['The weather today is warm and the sea is calm.', 'The garden behind the library opens at nine.'];

export function request(overrides: Partial<TrainingHyperparameters> = {}, threads = 1): TrainingRequest {
  const tokenizer = getGpt2Tokenizer();
  return {
    config: CONFIG,
    weights: initGpt2Weights(CONFIG, PARENT_SEED),
    train: cutWindows(tokenizeDocuments(TEXTS), CONFIG.nPositions),
    evalSet: EVAL_TEXTS.map((t) => tokenizer.encode(t)),
    hyperparameters: { steps: 4, batchSize: 3, learningRate: 3e-3, seed: 8, weightDecay: 0.01, warmupSteps: 1, gradClip: 1, ...overrides },
    threads,
  };
}
