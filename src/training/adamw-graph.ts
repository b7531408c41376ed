// AdamW as ONNX nodes, in the order of torch.optim.AdamW: decoupled weight decay on the matrices,
// moment updates, bias correction from the `step` input, and optional clipping by the global norm.
import type { OnnxGraphWriter } from '../runtime/onnx-graph-writer.js';

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

export const adamMName = (param: string): string => `adam_m.${param}`;
export const adamVName = (param: string): string => `adam_v.${param}`;
export const updatedName = (name: string): string => `updated.${name}`;

/** Scalar inputs of the training graph (float32, shape []). */
export const STEP_INPUTS = {
  /** 1-based optimizer step: the bias corrections are 1 - beta^step. */
  step: 'step',
  learningRate: 'learning_rate',
  weightDecay: 'weight_decay',
  /** Clip gradients to this global L2 norm; +Infinity turns clipping off. */
  maxGradNorm: 'max_grad_norm',
} as const;

/**
 * Weight decay applies to matrices (embeddings and Conv1D weights), not to biases or layer-norm
 * gains, as Hugging Face's Trainer and nanoGPT both do.
 */
export function isDecayed(param: string): boolean {
  return param.endsWith('.weight') && !/\.ln_[12f]\.weight$/.test(param);
}

/**
 * Emits the update of every parameter; `grads` maps each parameter name to its gradient tensor.
 * Outputs `updated.<name>`, `updated.adam_m.<name>`, `updated.adam_v.<name>` and `grad_norm`
 * (the global norm before clipping).
 */
export function emitAdamW(g: OnnxGraphWriter, params: string[], grads: Map<string, string>): void {
  const one = g.scalarFloat(1);
  const { step, learningRate, weightDecay, maxGradNorm } = STEP_INPUTS;
  const biasCorrection1 = g.op('Sub', [one, g.op('Pow', [g.scalarFloat(ADAM_BETA1), step])]);
  const biasCorrection2 = g.op('Sub', [one, g.op('Pow', [g.scalarFloat(ADAM_BETA2), step])]);
  const stepSize = g.op('Div', [learningRate, biasCorrection1]);
  const bc2Sqrt = g.op('Sqrt', [biasCorrection2]);
  const decayFactor = g.op('Sub', [one, g.op('Mul', [learningRate, weightDecay])]);

  const gradOf = (param: string): string => {
    const grad = grads.get(param);
    if (!grad) throw new Error(`no gradient for ${param}`);
    return grad;
  };
  // Whole-tensor reductions run on one thread in onnxruntime, and Sum adds in input order, so the
  // norm does not depend on the thread count.
  const squares = params.map((param) => g.op('ReduceSumSquare', [gradOf(param)], { keepdims: 0 }));
  const norm = g.op('Sqrt', [g.op('Sum', squares)], {}, 'grad_norm');
  // torch.nn.utils.clip_grad_norm_: coefficient max_norm / (norm + 1e-6), never above 1.
  const clip = g.op('Min', [one, g.op('Div', [maxGradNorm, g.op('Add', [norm, g.scalarFloat(1e-6)])])]);

  for (const param of params) {
    const grad = g.op('Mul', [gradOf(param), clip]);
    const m = g.op('Add', [g.op('Mul', [adamMName(param), g.scalarFloat(ADAM_BETA1)]), g.op('Mul', [grad, g.scalarFloat(1 - ADAM_BETA1)])], {}, updatedName(adamMName(param)));
    const v = g.op(
      'Add',
      [g.op('Mul', [adamVName(param), g.scalarFloat(ADAM_BETA2)]), g.op('Mul', [g.op('Mul', [grad, grad]), g.scalarFloat(1 - ADAM_BETA2)])],
      {},
      updatedName(adamVName(param)),
    );
    const denom = g.op('Add', [g.op('Div', [g.op('Sqrt', [v]), bc2Sqrt]), g.scalarFloat(ADAM_EPSILON)]);
    const decayed = isDecayed(param) ? g.op('Mul', [param, decayFactor]) : param;
    g.op('Sub', [decayed, g.op('Mul', [g.op('Div', [m, denom]), stepSize])], {}, updatedName(param));
  }
}
