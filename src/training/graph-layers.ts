// Forward and hand-written backward pieces of GPT-2 as ONNX nodes: layer norm, Conv1D (a Gemm),
// gelu_new and causal self-attention. Each forward returns what its backward needs; every tensor
// of the token stream is 2-D [tokens, features], so the matrix products are plain Gemms.
import { onnx, type OnnxGraphWriter } from '../runtime/onnx-graph-writer.js';

/** float32's lowest value: the score of a masked key, as in the serving graph (softmax gives it exactly 0). */
const MASKED_SCORE = -3.4028234663852886e38;
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** A node with one string attribute, which OnnxGraphWriter's attribute helper does not cover. */
export function opWithString(g: OnnxGraphWriter, opType: string, inputs: string[], ints: Record<string, number>, key: string, value: string): string {
  const [out] = g.opN(opType, inputs, 1, ints);
  const node = g.nodes[g.nodes.length - 1];
  node.attribute = [...(node.attribute ?? []), { name: key, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) }];
  return out;
}

/** Sum over the token axis (axis 0) of a [tokens, features] tensor: a bias or gain gradient. */
export function sumRows(g: OnnxGraphWriter, x: string): string {
  return g.op('ReduceSum', [x, g.ints([0])], { keepdims: 0 });
}

export interface LayerNormSaved {
  xhat: string;
  rstd: string;
}

export function layerNormForward(g: OnnxGraphWriter, x: string, prefix: string, eps: number): { y: string; saved: LayerNormSaved } {
  // The same fused op as the serving graph; its Mean and InvStdDev outputs feed the backward.
  const [y, mean, rstd] = g.opN('LayerNormalization', [x, `${prefix}.weight`, `${prefix}.bias`], 3, { axis: -1, epsilon: { float: eps } });
  const xhat = g.op('Mul', [g.op('Sub', [x, mean]), rstd]);
  return { y, saved: { xhat, rstd } };
}

export function layerNormBackward(
  g: OnnxGraphWriter,
  dy: string,
  saved: LayerNormSaved,
  gain: string,
): { dx: string; dGain: string; dBias: string } {
  const dGain = sumRows(g, g.op('Mul', [dy, saved.xhat]));
  const dBias = sumRows(g, dy);
  const dxhat = g.op('Mul', [dy, gain]);
  const meanDxhat = g.op('ReduceMean', [dxhat], { axes: [-1], keepdims: 1 });
  const meanDxhatXhat = g.op('ReduceMean', [g.op('Mul', [dxhat, saved.xhat])], { axes: [-1], keepdims: 1 });
  const centered = g.op('Sub', [g.op('Sub', [dxhat, meanDxhat]), g.op('Mul', [saved.xhat, meanDxhatXhat])]);
  return { dx: g.op('Mul', [centered, saved.rstd]), dGain, dBias };
}

/** HF Conv1D: x [n, in] @ W [in, out] + b. */
export function linearForward(g: OnnxGraphWriter, x: string, prefix: string): string {
  return g.op('Gemm', [x, `${prefix}.weight`, `${prefix}.bias`]);
}

export function linearBackward(g: OnnxGraphWriter, x: string, prefix: string, dy: string): { dx: string; dWeight: string; dBias: string } {
  return {
    dx: g.op('Gemm', [dy, `${prefix}.weight`], { transB: 1 }),
    dWeight: g.op('Gemm', [x, dy], { transA: 1 }),
    dBias: sumRows(g, dy),
  };
}

/** gelu_new(x) = 0.5 x (1 + tanh(c (x + a x^3))); keeps the tanh for the backward. */
export function geluForward(g: OnnxGraphWriter, x: string): { y: string; tanh: string } {
  const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.scalarFloat(GELU_A)])]), g.scalarFloat(GELU_C)]);
  const tanh = g.op('Tanh', [inner]);
  const y = g.op('Mul', [g.op('Mul', [x, g.scalarFloat(0.5)]), g.op('Add', [tanh, g.scalarFloat(1)])]);
  return { y, tanh };
}

/** d gelu_new / dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t the forward's tanh. */
export function geluBackward(g: OnnxGraphWriter, dy: string, x: string, tanh: string): string {
  const half = g.scalarFloat(0.5);
  const one = g.scalarFloat(1);
  const left = g.op('Mul', [g.op('Add', [tanh, one]), half]);
  const sech2 = g.op('Sub', [one, g.op('Mul', [tanh, tanh])]);
  const innerSlope = g.op('Mul', [g.op('Add', [one, g.op('Mul', [g.op('Mul', [x, x]), g.scalarFloat(3 * GELU_A)])]), g.scalarFloat(GELU_C)]);
  const right = g.op('Mul', [g.op('Mul', [g.op('Mul', [x, half]), sech2]), innerSlope]);
  return g.op('Mul', [dy, g.op('Add', [left, right])]);
}

/** Shapes shared by every layer's attention, built once from the runtime sequence length. */
export interface AttentionShapes {
  nEmbd: number;
  headDim: number;
  /** int64 [4]: [-1, T, heads, headDim] */
  headsShape: string;
  /** int64 [2]: [-1, nEmbd] */
  flatShape: string;
  /** bool [T, T]: key j visible to query i when j <= i */
  causal: string;
}

export interface AttentionSaved {
  q: string;
  k: string;
  v: string;
  probs: string;
}

export function attentionForward(g: OnnxGraphWriter, qkv: string, s: AttentionShapes): { context: string; saved: AttentionSaved } {
  const e = s.nEmbd;
  const [q2, k2, v2] = g.opN('Split', [qkv, g.ints([e, e, e])], 3, { axis: 1 });
  const toHeads = (x: string): string => g.op('Transpose', [g.op('Reshape', [x, s.headsShape])], { perm: [0, 2, 1, 3] });
  const q = toHeads(q2);
  const k = toHeads(k2);
  const v = toHeads(v2);
  const scores = g.op('Div', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), g.scalarFloat(Math.sqrt(s.headDim))]);
  const probs = g.op('Softmax', [g.op('Where', [s.causal, scores, g.scalarFloat(MASKED_SCORE)])], { axis: -1 });
  const context = fromHeads(g, g.op('MatMul', [probs, v]), s);
  return { context, saved: { q, k, v, probs } };
}

function fromHeads(g: OnnxGraphWriter, x: string, s: AttentionShapes): string {
  return g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1, 3] }), s.flatShape]);
}

/** Gradient of the attention block with respect to its fused qkv input [tokens, 3 * nEmbd]. */
export function attentionBackward(g: OnnxGraphWriter, dContext: string, saved: AttentionSaved, s: AttentionShapes): string {
  const swapLast = (x: string): string => g.op('Transpose', [x], { perm: [0, 1, 3, 2] });
  const dCtx = g.op('Transpose', [g.op('Reshape', [dContext, s.headsShape])], { perm: [0, 2, 1, 3] });
  const dProbs = g.op('MatMul', [dCtx, swapLast(saved.v)]);
  const dv = g.op('MatMul', [swapLast(saved.probs), dCtx]);
  // Softmax backward: dS = P (dP - sum_j dP P); masked keys have P = 0, so they get no gradient.
  const rowDot = g.op('ReduceSum', [g.op('Mul', [dProbs, saved.probs]), g.ints([-1])], { keepdims: 1 });
  const dScores = g.op('Div', [g.op('Mul', [saved.probs, g.op('Sub', [dProbs, rowDot])]), g.scalarFloat(Math.sqrt(s.headDim))]);
  const dq = g.op('MatMul', [dScores, saved.k]);
  const dk = g.op('MatMul', [swapLast(dScores), saved.q]);
  return g.op('Concat', [fromHeads(g, dq, s), fromHeads(g, dk, s), fromHeads(g, dv, s)], { axis: 1 });
}
