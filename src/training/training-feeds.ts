// onnxruntime feeds of one training or evaluation step: parameters under their HF names, AdamW
// moments, the token batch and the step scalars (plain data in, ort.Tensor views out, no copies).
import * as ort from 'onnxruntime-node';
import type { Gpt2Config } from '../runtime/gpt2-config.js';
import { type Gpt2Weights, gpt2ParameterShapes, requireWeight } from '../runtime/gpt2-weights.js';
import { adamMName, adamVName, STEP_INPUTS } from './adamw-graph.js';

/** Right-padded rows: `labels` holds the row's own tokens and -100 on padding (not scored). */
export interface TokenBatch {
  batch: number;
  length: number;
  inputIds: BigInt64Array;
  labels: BigInt64Array;
}

export interface StepScalars {
  step: number;
  learningRate: number;
  weightDecay: number;
  /** +Infinity: no clipping. */
  maxGradNorm: number;
}

export interface AdamMoments {
  m: Gpt2Weights;
  v: Gpt2Weights;
}

/** Zero moments shaped like the parameters (AdamW's state before its first step). */
export function zeroMoments(config: Gpt2Config): AdamMoments {
  const zeros = (): Gpt2Weights =>
    new Map(gpt2ParameterShapes(config).map(([name, shape]) => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  return { m: zeros(), v: zeros() };
}

export function evalFeeds(config: Gpt2Config, weights: Gpt2Weights, batch: TokenBatch): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', batch.inputIds, [batch.batch, batch.length]),
    labels: new ort.Tensor('int64', batch.labels, [batch.batch, batch.length]),
  };
  for (const [name, shape] of gpt2ParameterShapes(config)) feeds[name] = new ort.Tensor('float32', requireWeight(weights, name).data, shape);
  return feeds;
}

export function trainingFeeds(
  config: Gpt2Config,
  weights: Gpt2Weights,
  moments: AdamMoments | undefined,
  batch: TokenBatch,
  scalars: StepScalars,
): Record<string, ort.Tensor> {
  const feeds = evalFeeds(config, weights, batch);
  const state = moments ?? zeroMoments(config);
  for (const [name, shape] of gpt2ParameterShapes(config)) {
    feeds[adamMName(name)] = new ort.Tensor('float32', requireWeight(state.m, name).data, shape);
    feeds[adamVName(name)] = new ort.Tensor('float32', requireWeight(state.v, name).data, shape);
  }
  const scalar = (value: number): ort.Tensor => new ort.Tensor('float32', Float32Array.of(value), []);
  feeds[STEP_INPUTS.step] = scalar(scalars.step);
  feeds[STEP_INPUTS.learningRate] = scalar(scalars.learningRate);
  feeds[STEP_INPUTS.weightDecay] = scalar(scalars.weightDecay);
  feeds[STEP_INPUTS.maxGradNorm] = scalar(scalars.maxGradNorm);
  return feeds;
}
