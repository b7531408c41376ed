// Issue 11 item 5: same parent weights, data, hyper-parameters and seed -> byte-identical
// model.onnx, across runs and across onnxruntime thread counts; and with a schedule that does not
// depend on `steps`, a checkpoint at step k is exactly a k-step run (how the default model's last
// phase was chosen).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initGpt2Weights } from '../../../src/runtime/gpt2-weights.js';
import { writeModelFolder } from '../../../src/training/index.js';
import { runTraining } from '../../../src/training/trainer.js';
import { learningRateAt, runTrainingLoop, type TrainingResult, type TrainingSnapshot } from '../../../src/training/training-loop.js';
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

  it('hands out, at every checkpoint of an inverse-sqrt run, the weights and eval loss of a run that many steps long', async () => {
    const schedule = { schedule: 'inverse-sqrt' as const, warmupSteps: 2 };
    expect(learningRateAt(8, { ...request(schedule).hyperparameters, steps: 8 })).toBeCloseTo(3e-3 * Math.sqrt(2 / 8), 12);
    const snapshots: TrainingSnapshot[] = [];
    const long = await runTrainingLoop(request({ ...schedule, steps: 6 }), {
      checkpoint: { every: 2, onCheckpoint: async (snapshot) => void snapshots.push(snapshot) },
    });
    expect(snapshots.map((s) => s.stepsRun)).toEqual([2, 4]);
    const short = await runTrainingLoop(request({ ...schedule, steps: 4 }));
    expect(await sha(short, 'short')).toBe(await sha({ ...snapshots[1], losses: [], cancelled: false }, 'checkpoint-4'));
    expect(snapshots[1].evalLossAfter).toBe(short.evalLossAfter);
    expect(snapshots[1].tokensSeen).toBe(short.tokensSeen);
    expect(long.losses.slice(0, 4)).toEqual(short.losses);
    expect(await sha(long, 'long')).not.toBe(await sha(short, 'short-again'));
  });
});
