// runTraining end to end on a small GPT-2 (full GPT-2 vocabulary): determinism across runs and
// thread counts, loss going down, the trained folder served by the inference engine with the
// eval loss the trainer reported, cancellation at a step boundary, and request validation.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceEngine } from '../../../src/runtime/inference-engine.js';
import { type Gpt2Config, GPT2_VOCAB_SIZE } from '../../../src/runtime/gpt2-config.js';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';
import { initGpt2Weights } from '../../../src/runtime/gpt2-weights.js';
import { InvalidParameterError } from '../../../src/runtime/runtime-errors.js';
import { writeModelFolder } from '../../../src/training/model-folder-writer.js';
import { runTraining } from '../../../src/training/trainer.js';
import { createBatchSampler, cutWindows, tokenizeDocuments } from '../../../src/training/training-data.js';
import type { TrainingRequest, TrainingResult } from '../../../src/training/training-loop.js';
import { makeTempDir } from '../runtime/tiny-model-fixture.js';

const CONFIG: Gpt2Config = { nLayer: 2, nHead: 2, nEmbd: 16, nPositions: 32, vocabSize: GPT2_VOCAB_SIZE, layerNormEpsilon: 1e-5, bosTokenId: 50256, eosTokenId: 50256 };
const TEXTS = [
  'The weather today is cold and grey, and the wind comes off the sea.',
  'The train to the coast leaves at nine and arrives before noon.',
  'She planted tomatoes, beans and basil in the small garden behind the house.',
  'The library opens early on Saturday and closes late on Thursday.',
];
const EVAL_TEXTS = ['The weather today is warm and the sea is calm.', 'The garden behind the library opens at nine.'];

function request(overrides: Partial<TrainingRequest['hyperparameters']> = {}, threads = 1): TrainingRequest {
  const tokenizer = getGpt2Tokenizer();
  return {
    config: CONFIG,
    weights: initGpt2Weights(CONFIG, 5),
    train: cutWindows(tokenizeDocuments(TEXTS), CONFIG.nPositions),
    evalSet: EVAL_TEXTS.map((t) => tokenizer.encode(t)),
    hyperparameters: { steps: 4, batchSize: 3, learningRate: 3e-3, seed: 8, weightDecay: 0.01, warmupSteps: 1, gradClip: 1, ...overrides },
    threads,
  };
}

describe('runTraining', { timeout: 120_000 }, () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    temp = await makeTempDir('trainer-test-');
  });
  afterAll(() => temp?.remove());

  const sha = async (result: TrainingResult, name: string): Promise<string> =>
    (await writeModelFolder(join(temp.dir, name), CONFIG, result.weights)).weightsSha256;

  it('gives byte-identical model.onnx across runs and across 1 and 2 threads, without blocking the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const first = await runTraining(request({}, 1));
    clearInterval(timer);
    const second = await runTraining(request({}, 1));
    const twoThreads = await runTraining(request({}, 2));
    expect(ticks).toBeGreaterThan(0);
    expect(first.stepsRun).toBe(4);
    const hashes = [await sha(first, 'a'), await sha(second, 'b'), await sha(twoThreads, 'c')];
    expect(hashes[1]).toBe(hashes[0]);
    expect(hashes[2]).toBe(hashes[0]);
    expect(twoThreads.losses).toEqual(first.losses);
    const untrained = (await writeModelFolder(join(temp.dir, 'parent'), CONFIG, initGpt2Weights(CONFIG, 5))).weightsSha256;
    expect(hashes[0]).not.toBe(untrained);
    // A different seed draws other batches, hence other weights.
    expect(await sha(await runTraining(request({ seed: 9 })), 'd')).not.toBe(hashes[0]);
  });

  it('lowers the loss, and the served model scores the eval texts as the trainer reported', async () => {
    const progress: number[] = [];
    const result = await runTraining(request({ steps: 40, learningRate: 1e-2, warmupSteps: 2 }), {
      onStep: (p) => {
        progress.push(p.step);
        expect(p.tokensPerSecond).toBeGreaterThan(0);
      },
    });
    expect(progress).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const early = result.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const late = result.losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(late).toBeLessThan(early - 2);
    expect(result.evalLossAfter!).toBeLessThan(result.evalLossBefore!);
    const req = request();
    const sampler = createBatchSampler(req.train.length, 3, 8);
    let tokens = 0;
    for (let step = 0; step < 40; step++) for (const i of sampler.next()) tokens += req.train[i].length;
    expect(result.tokensSeen).toBe(tokens);

    const folder = await writeModelFolder(join(temp.dir, 'served'), CONFIG, result.weights);
    const engine = await createInferenceEngine({ modelDir: folder.dir, expectedSha256: folder.weightsSha256 });
    try {
      const scored = await engine.evaluate({ texts: EVAL_TEXTS });
      expect(Math.abs(scored.loss - result.evalLossAfter!)).toBeLessThan(1e-4);
    } finally {
      await engine.close();
    }
  });

  it('stops at a step boundary when aborted and returns the steps run', async () => {
    const controller = new AbortController();
    const result = await runTraining(request({ steps: 200 }), {
      signal: controller.signal,
      onStep: (p) => {
        if (p.step === 2) controller.abort();
      },
    });
    expect(result.cancelled).toBe(true);
    expect(result.stepsRun).toBeGreaterThanOrEqual(2);
    expect(result.stepsRun).toBeLessThan(200);
    expect(result.losses).toHaveLength(result.stepsRun);
    expect(result.evalLossAfter).not.toBeNull();
  });

  it('returns at once, untrained, when the signal is already aborted', async () => {
    const req = request();
    const result = await runTraining(req, { signal: AbortSignal.abort() });
    expect(result).toMatchObject({ stepsRun: 0, cancelled: true, losses: [] });
    expect(result.weights).toBe(req.weights);
  });

  it('refuses invalid requests before starting a thread', async () => {
    await expect(runTraining(request({ batchSize: 0 }))).rejects.toThrow(InvalidParameterError);
    await expect(runTraining(request({ learningRate: -1 }))).rejects.toThrow(/learningRate/);
    const tooLong = request();
    tooLong.train = [Array.from({ length: CONFIG.nPositions + 1 }, () => 1)];
    await expect(runTraining(tooLong)).rejects.toThrow(/train\[0\]/);
    const badToken = request();
    badToken.evalSet = [[1, GPT2_VOCAB_SIZE]];
    await expect(runTraining(badToken)).rejects.toThrow(/vocabulary/);
  });
});
