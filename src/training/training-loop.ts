// The training loop itself, run inside the training thread: one onnxruntime session for the
// training step graph and one for the eval graph, the parameters and AdamW moments kept as plain
// Float32Arrays between steps, batches from the seeded sampler, eval loss before and after.
import * as ort from 'onnxruntime-node';
import type { Gpt2Config } from '../runtime/gpt2-config.js';
import { type Gpt2Weights, gpt2ParameterShapes } from '../runtime/gpt2-weights.js';
import { adamMName, adamVName, updatedName } from './adamw-graph.js';
import { buildGpt2TrainingGraph } from './gpt2-training-graph.js';
import { countTargets, createBatchSampler, packBatch } from './training-data.js';
import { type AdamMoments, evalFeeds, trainingFeeds, zeroMoments } from './training-feeds.js';

export interface TrainingHyperparameters {
  steps: number;
  /** Sequences per step. */
  batchSize: number;
  /** Peak learning rate (after warm-up). */
  learningRate: number;
  /** Seeds the batch order (the only randomness: there is no dropout). */
  seed: number;
  /** AdamW decoupled weight decay on matrices (default 0.01). */
  weightDecay?: number;
  /** Linear warm-up steps from 0 to learningRate (default 0). */
  warmupSteps?: number;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  gradClip?: number;
  /**
   * After warm-up: 'cosine' decays to 10% of learningRate at the last step (default), 'constant' keeps
   * it, 'inverse-sqrt' decays as learningRate × √(warm-up / step). The last two do not depend on
   * `steps`, so a run stopped at step k holds exactly the weights of a k-step run.
   */
  schedule?: 'cosine' | 'constant' | 'inverse-sqrt';
}

export interface TrainingRequest {
  config: Gpt2Config;
  /** The parent's parameters (HF names); never modified. */
  weights: Gpt2Weights;
  /** Token sequences of 2..nPositions tokens; each scores its tokens 1..n-1. */
  train: number[][];
  evalSet: number[][];
  hyperparameters: TrainingHyperparameters;
  /** onnxruntime intra-op threads (default 1); the result does not depend on it. */
  threads?: number;
}

export interface TrainingStepProgress {
  step: number;
  loss: number;
  tokensPerSecond: number;
  learningRate: number;
  gradNorm: number;
}

export interface TrainingResult {
  weights: Gpt2Weights;
  stepsRun: number;
  /** Mean training loss of each step run. */
  losses: number[];
  /** Mean next-token loss on evalSet before the first step and after the last (null without an eval set). */
  evalLossBefore: number | null;
  evalLossAfter: number | null;
  cancelled: boolean;
  /** Input tokens of all batches run (padding excluded). */
  tokensSeen: number;
}

/** What training has made so far, as a run of `stepsRun` steps would have ended (eval loss included). */
export type TrainingSnapshot = Omit<TrainingResult, 'losses' | 'cancelled'>;

export interface TrainingLoopHooks {
  onStep?: (progress: TrainingStepProgress) => void;
  /** Polled before every step; true ends training at that boundary. */
  shouldStop?: () => boolean;
  /** Awaited after every `every` steps (not after the last): lets a long run be scored on the way. */
  checkpoint?: { every: number; onCheckpoint: (snapshot: TrainingSnapshot) => Promise<void> };
}

/** Scored targets per eval run: each carries a vocabulary-wide row of logits. */
const EVAL_TARGET_BUDGET = 2048;

export function learningRateAt(step: number, hp: TrainingHyperparameters): number {
  const warmup = hp.warmupSteps ?? 0;
  if (step <= warmup) return (hp.learningRate * step) / warmup;
  if ((hp.schedule ?? 'cosine') === 'constant') return hp.learningRate;
  if (hp.schedule === 'inverse-sqrt') return hp.learningRate * Math.sqrt(Math.max(1, warmup) / step);
  const progress = (step - warmup) / Math.max(1, hp.steps - warmup);
  return hp.learningRate * (0.1 + 0.45 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}

export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  // Sleeping pool threads, as the serving sessions use: the cores are shared with other work.
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** Mean next-token loss over `rows` (token-weighted; float64 sums in row order, so batching cannot change it). */
export async function evaluateLoss(session: ort.InferenceSession, config: Gpt2Config, weights: Gpt2Weights, rows: number[][]): Promise<number | null> {
  const total = countTargets(rows);
  if (total === 0) return null;
  let sum = 0;
  for (let start = 0; start < rows.length; ) {
    const group: number[][] = [];
    let targets = 0;
    while (start < rows.length && (group.length === 0 || targets + rows[start].length <= EVAL_TARGET_BUDGET)) {
      targets += rows[start].length;
      group.push(rows[start++]);
    }
    const out = await session.run(evalFeeds(config, weights, packBatch(group)));
    const nll = out.token_nll.data as Float32Array;
    for (let i = 0; i < nll.length; i++) sum += nll[i];
  }
  return sum / total;
}

export async function runTrainingLoop(request: TrainingRequest, hooks: TrainingLoopHooks = {}): Promise<TrainingResult> {
  const { config, hyperparameters: hp } = request;
  const options = sessionOptions(request.threads ?? 1);
  const [trainSession, evalSession] = await Promise.all([
    ort.InferenceSession.create(buildGpt2TrainingGraph(config), options),
    ort.InferenceSession.create(buildGpt2TrainingGraph(config, { mode: 'eval' }), options),
  ]);
  try {
    const evalLossBefore = await evaluateLoss(evalSession, config, request.weights, request.evalSet);
    let weights = request.weights;
    let moments: AdamMoments = zeroMoments(config);
    const sampler = createBatchSampler(request.train.length, hp.batchSize, hp.seed);
    const losses: number[] = [];
    let tokensSeen = 0;
    let cancelled = false;
    for (let step = 1; step <= hp.steps; step++) {
      if (hooks.shouldStop?.()) {
        cancelled = true;
        break;
      }
      const started = performance.now();
      const rows = sampler.next().map((i) => request.train[i]);
      const learningRate = learningRateAt(step, hp);
      const scalars = { step, learningRate, weightDecay: hp.weightDecay ?? 0.01, maxGradNorm: hp.gradClip ?? Number.POSITIVE_INFINITY };
      const out = await trainSession.run(trainingFeeds(config, weights, moments, packBatch(rows), scalars));
      const next = { weights: new Map() as Gpt2Weights, m: new Map() as Gpt2Weights, v: new Map() as Gpt2Weights };
      for (const [name, shape] of gpt2ParameterShapes(config)) {
        next.weights.set(name, { shape, data: out[updatedName(name)].data as Float32Array });
        next.m.set(name, { shape, data: out[updatedName(adamMName(name))].data as Float32Array });
        next.v.set(name, { shape, data: out[updatedName(adamVName(name))].data as Float32Array });
      }
      weights = next.weights;
      moments = { m: next.m, v: next.v };
      const loss = (out.loss.data as Float32Array)[0];
      const tokens = rows.reduce((sum, row) => sum + row.length, 0);
      tokensSeen += tokens;
      losses.push(loss);
      const seconds = (performance.now() - started) / 1000;
      hooks.onStep?.({ step, loss, tokensPerSecond: tokens / seconds, learningRate, gradNorm: (out.grad_norm.data as Float32Array)[0] });
      const checkpoint = hooks.checkpoint;
      if (checkpoint && step % checkpoint.every === 0 && step < hp.steps) {
        const evalLossAfter = await evaluateLoss(evalSession, config, weights, request.evalSet);
        await checkpoint.onCheckpoint({ weights, stepsRun: step, evalLossBefore, evalLossAfter, tokensSeen });
      }
    }
    const evalLossAfter = losses.length === 0 ? evalLossBefore : await evaluateLoss(evalSession, config, weights, request.evalSet);
    return { weights, stepsRun: losses.length, losses, evalLossBefore, evalLossAfter, cancelled, tokensSeen };
  } finally {
    await Promise.all([trainSession.release(), evalSession.release()]);
  }
}
