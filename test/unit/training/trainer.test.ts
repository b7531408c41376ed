// runTraining end to end on a small GPT-2 (full GPT-2 vocabulary): loss going down, the trained
// folder served by the inference engine with the eval loss the trainer reported, cancellation at a
// step boundary, and request validation. Determinism: trainer-determinism.test.ts.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceEngine } from '../../../src/runtime/inference-engine.js';
import { GPT2_VOCAB_SIZE } from '../../../src/runtime/gpt2-config.js';
import { InvalidParameterError } from '../../../src/runtime/runtime-errors.js';
import { writeModelFolder } from '../../../src/training/index.js';
import { runTraining } from '../../../src/training/trainer.js';
import { createBatchSampler } from '../../../src/training/training-data.js';
import { makeTempDir } from '../runtime/tiny-model-fixture.js';
import { CONFIG, EVAL_TEXTS, request } from './training-fixture.js';

describe('runTraining', { timeout: 120_000 }, () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    temp = await makeTempDir('trainer-test-');
  });
  afterAll(() => temp?.remove());

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
