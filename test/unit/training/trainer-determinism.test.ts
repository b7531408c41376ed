// Issue 11 item 5: same parent weights, data, hyper-parameters and seed -> byte-identical
// model.onnx, across runs and across onnxruntime thread counts.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initGpt2Weights } from '../../../src/runtime/gpt2-weights.js';
import { writeModelFolder } from '../../../src/training/index.js';
import { runTraining } from '../../../src/training/trainer.js';
import type { TrainingResult } from '../../../src/training/training-loop.js';
import { makeTempDir } from '../runtime/tiny-model-fixture.js';
import { CONFIG, PARENT_SEED, request } from './training-fixture.js';

describe('training determinism', { timeout: 120_000 }, () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    temp = await makeTempDir('trainer-determinism-');
  });
  afterAll(() => temp?.remove());

  const sha = async (result: TrainingResult, name: string): Promise<string> =>
    (await writeModelFolder(join(temp.dir, name), CONFIG, result.weights)).weightsSha256;

  it('gives byte-identical model.onnx across runs and across 1 and 2 threads, without blocking the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const first = await runTraining(request({}, 1));
    clearInterval(timer);
    const [second, twoThreads] = [await runTraining(request({}, 1)), await runTraining(request({}, 2))];
    expect(ticks).toBeGreaterThan(0);
    expect(first.stepsRun).toBe(4);
    const hashes = [await sha(first, 'a'), await sha(second, 'b'), await sha(twoThreads, 'c')];
    expect(hashes[1]).toBe(hashes[0]);
    expect(hashes[2]).toBe(hashes[0]);
    expect(twoThreads.losses).toEqual(first.losses);
    expect(twoThreads.evalLossAfter).toBe(first.evalLossAfter);
    const parent = (await writeModelFolder(join(temp.dir, 'parent'), CONFIG, initGpt2Weights(CONFIG, PARENT_SEED))).weightsSha256;
    expect(hashes[0]).not.toBe(parent);
  });
});
