// Builds GPT-2's training step as one ONNX graph for onnxruntime: forward, a hand-written
// backward, and AdamW. Inputs are every parameter (HF names), its AdamW moments, the step
// scalars, `input_ids` and `labels` [batch, seq]; outputs are the updated tensors and the loss.
// The same builder in 'eval' mode gives the forward pass and per-token losses only.
import { type Gpt2Config, headDim } from '../runtime/gpt2-config.js';
import { gpt2ParameterShapes, layerPrefix } from '../runtime/gpt2-weights.js';
import { OnnxGraphWriter, valueInfo } from '../runtime/onnx-graph-writer.js';
import { adamMName, adamVName, emitAdamW, STEP_INPUTS, updatedName } from './adamw-graph.js';
import {
  type AttentionSaved,
  type AttentionShapes,
  attentionBackward,
  attentionForward,
  geluBackward,
  geluForward,
  type LayerNormSaved,
  layerNormBackward,
  layerNormForward,
  linearBackward,
  linearForward,
  opWithString,
} from './graph-layers.js';

export interface TrainingGraphOptions {
  /** 'train' (default): forward, backward and AdamW. 'eval': forward and `token_nll` only. */
  mode?: 'train' | 'eval';
  /** Also output every gradient as `grad.<name>` (before clipping), for gradient checks. */
  emitGradients?: boolean;
}

export const gradName = (param: string): string => `grad.${param}`;

/**
 * Smallest probability the training loss takes the log of: a target below it (loss above 85 nats)
 * adds 85.2 to the reported loss, never Infinity. The gradient is exact regardless; the eval graph
 * uses LogSoftmax and has no such floor.
 */
const MIN_TARGET_PROBABILITY = 1e-37;

interface LayerSaved {
  ln1: { y: string; saved: LayerNormSaved };
  attn: { context: string; saved: AttentionSaved };
  ln2: { y: string; saved: LayerNormSaved };
  fc: string;
  gelu: { y: string; tanh: string };
}

/**
 * Labels follow GPT2LMHeadModel(labels=...): labels[b, t] is the token at t, position t - 1
 * predicts it, negative labels (-100) are not scored, and the loss is the mean over scored
 * targets. Right padding needs no attention mask: causal attention never looks right.
 */
export function buildGpt2TrainingGraph(config: Gpt2Config, options: TrainingGraphOptions = {}): Uint8Array {
  const mode = options.mode ?? 'train';
  const g = new OnnxGraphWriter();
  const e = config.nEmbd;
  const eps = config.layerNormEpsilon;
  const shapes = gpt2ParameterShapes(config);

  const seqLen = g.op('Shape', ['input_ids'], { start: 1, end: 2 }); // int64 [1]
  const positions = g.op('Range', [g.scalarInt(0), g.op('Squeeze', [seqLen, g.ints([0])]), g.scalarInt(1)]);
  const attention: AttentionShapes = {
    nEmbd: e,
    headDim: headDim(config),
    headsShape: g.op('Concat', [g.ints([-1]), seqLen, g.ints([config.nHead, headDim(config)])], { axis: 0 }),
    flatShape: g.ints([-1, e]),
    causal: g.op('LessOrEqual', [g.op('Unsqueeze', [positions, g.ints([0])]), g.op('Unsqueeze', [positions, g.ints([1])])]),
  };
  const batchSeqEmbd = g.op('Concat', [g.ints([-1]), seqLen, g.ints([e])], { axis: 0 });

  // Forward.
  const tokens = g.op('Gather', ['transformer.wte.weight', 'input_ids']);
  let x = g.op('Reshape', [g.op('Add', [tokens, g.op('Gather', ['transformer.wpe.weight', positions])]), attention.flatShape]);
  const layers: Array<LayerSaved & { x: string; x2: string }> = [];
  for (let i = 0; i < config.nLayer; i++) {
    const p = layerPrefix(i);
    const ln1 = layerNormForward(g, x, `${p}.ln_1`, eps);
    const attn = attentionForward(g, linearForward(g, ln1.y, `${p}.attn.c_attn`), attention);
    const x2 = g.op('Add', [x, linearForward(g, attn.context, `${p}.attn.c_proj`)]);
    const ln2 = layerNormForward(g, x2, `${p}.ln_2`, eps);
    const fc = linearForward(g, ln2.y, `${p}.mlp.c_fc`);
    const gelu = geluForward(g, fc);
    layers.push({ x, x2, ln1, attn, ln2, fc, gelu });
    x = g.op('Add', [x2, linearForward(g, gelu.y, `${p}.mlp.c_proj`)]);
  }
  const lnF = layerNormForward(g, x, 'transformer.ln_f', eps);
  // The last position predicts nothing that is scored: drop it before the LM head, the costly part.
  const scoredHidden = g.op('Reshape', [g.op('Slice', [g.op('Reshape', [lnF.y, batchSeqEmbd]), g.ints([0]), g.ints([-1]), g.ints([1])]), attention.flatShape]);
  const targets = g.op('Reshape', [g.op('Slice', ['labels', g.ints([1]), g.ints([2 ** 53]), g.ints([1])]), g.ints([-1])]);
  const scored = g.op('GreaterOrEqual', [targets, g.scalarInt(0)]);
  const safeTargets = g.op('Where', [scored, targets, g.scalarInt(0)]);
  const safeTargets2d = g.op('Unsqueeze', [safeTargets, g.ints([1])]);
  // Tied LM head: logits = h @ wte^T, read in place by Gemm(transB).
  const logits = g.op('Gemm', [scoredHidden, 'transformer.wte.weight'], { transB: 1 });

  const inputs = [valueInfo('input_ids', 'int64', ['batch', 'sequence']), valueInfo('labels', 'int64', ['batch', 'sequence'])];
  for (const [name, dims] of shapes) inputs.push(valueInfo(name, 'float32', dims));

  if (mode === 'eval') {
    const picked = g.op('GatherElements', [g.op('LogSoftmax', [logits], { axis: -1 }), safeTargets2d], { axis: 1 });
    g.op('Where', [scored, g.op('Neg', [g.op('Reshape', [picked, g.ints([-1])])]), g.scalarFloat(0)], {}, 'token_nll');
    return g.toModelBytes({ name: 'gpt2_eval', inputs, outputs: [valueInfo('token_nll', 'float32', ['targets'])] }, 'posthuman-gateway trainer');
  }

  // Loss: mean next-token cross-entropy over scored targets.
  const probs = g.op('Softmax', [logits], { axis: -1 });
  const targetProb = g.op('Reshape', [g.op('GatherElements', [probs, safeTargets2d], { axis: 1 }), g.ints([-1])]);
  const nll = g.op('Neg', [g.op('Log', [g.op('Max', [targetProb, g.scalarFloat(MIN_TARGET_PROBABILITY)])])]);
  const scoredF = g.op('Cast', [scored], { to: 1 });
  const count = g.op('Max', [g.op('ReduceSum', [scoredF], { keepdims: 0 }), g.scalarFloat(1)]);
  g.op('Div', [g.op('ReduceSum', [g.op('Where', [scored, nll, g.scalarFloat(0)])], { keepdims: 0 }), count], {}, 'loss');

  // d loss / d logits = w (softmax - onehot), w = 1/count on scored targets. The weights go on the
  // narrow [targets, embd] side and the one-hot part is a row gather / scatter, so the
  // [targets, vocab] probabilities are only read by the two Gemms, never rewritten.
  const weight = g.op('Unsqueeze', [g.op('Div', [scoredF, count]), g.ints([1])]);
  const weightedHidden = g.op('Mul', [scoredHidden, weight]);
  const dScored = g.op('Mul', [g.op('Sub', [g.op('MatMul', [probs, 'transformer.wte.weight']), g.op('Gather', ['transformer.wte.weight', safeTargets])]), weight]);
  // As ([embd, targets] @ [targets, vocab])^T: the probabilities stream in their stored order
  // (a transA Gemm over them ran ~1.7x slower), and the transpose touches only [vocab, embd].
  const dWteHead = g.op('Transpose', [g.op('MatMul', [g.op('Transpose', [weightedHidden], { perm: [1, 0] }), probs])], { perm: [1, 0] });
  const shorterShape = g.op('Concat', [g.ints([-1]), g.op('Sub', [seqLen, g.ints([1])]), g.ints([e])], { axis: 0 });
  const dLnF = g.op('Reshape', [g.op('Pad', [g.op('Reshape', [dScored, shorterShape]), g.ints([0, 0, 0, 0, 1, 0])]), attention.flatShape]);

  // Backward through the blocks.
  const grads = new Map<string, string>();
  const lnFBack = layerNormBackward(g, dLnF, lnF.saved, 'transformer.ln_f.weight');
  grads.set('transformer.ln_f.weight', lnFBack.dGain).set('transformer.ln_f.bias', lnFBack.dBias);
  let dx = lnFBack.dx;
  for (let i = config.nLayer - 1; i >= 0; i--) {
    const p = layerPrefix(i);
    const s = layers[i];
    const mlpProj = linearBackward(g, s.gelu.y, `${p}.mlp.c_proj`, dx);
    const mlpFc = linearBackward(g, s.ln2.y, `${p}.mlp.c_fc`, geluBackward(g, mlpProj.dx, s.fc, s.gelu.tanh));
    const ln2 = layerNormBackward(g, mlpFc.dx, s.ln2.saved, `${p}.ln_2.weight`);
    const dx2 = g.op('Add', [dx, ln2.dx]);
    const attnProj = linearBackward(g, s.attn.context, `${p}.attn.c_proj`, dx2);
    const attnQkv = linearBackward(g, s.ln1.y, `${p}.attn.c_attn`, attentionBackward(g, attnProj.dx, s.attn.saved, attention));
    const ln1 = layerNormBackward(g, attnQkv.dx, s.ln1.saved, `${p}.ln_1.weight`);
    dx = g.op('Add', [dx2, ln1.dx]);
    const set = (name: string, grad: string): void => void grads.set(`${p}.${name}`, grad);
    set('ln_1.weight', ln1.dGain);
    set('ln_1.bias', ln1.dBias);
    set('attn.c_attn.weight', attnQkv.dWeight);
    set('attn.c_attn.bias', attnQkv.dBias);
    set('attn.c_proj.weight', attnProj.dWeight);
    set('attn.c_proj.bias', attnProj.dBias);
    set('ln_2.weight', ln2.dGain);
    set('ln_2.bias', ln2.dBias);
    set('mlp.c_fc.weight', mlpFc.dWeight);
    set('mlp.c_fc.bias', mlpFc.dBias);
    set('mlp.c_proj.weight', mlpProj.dWeight);
    set('mlp.c_proj.bias', mlpProj.dBias);
  }

  // Embeddings: wpe sums over the batch (rows past the sequence stay 0); wte gets the input rows
  // and the LM head's one-hot part, added in index order by ScatterElements (a sequential loop in
  // onnxruntime's CPU kernel, so repeated token ids sum the same way for any thread count).
  const dPositions = g.op('ReduceSum', [g.op('Reshape', [dx, batchSeqEmbd]), g.ints([0])], { keepdims: 0 });
  const wpePads = g.op('Concat', [g.ints([0, 0]), g.op('Sub', [g.ints([config.nPositions]), seqLen]), g.ints([0])], { axis: 0 });
  grads.set('transformer.wpe.weight', g.op('Pad', [dPositions, wpePads]));
  const rowIndex = (ids: string): string => g.op('Expand', [g.op('Reshape', [ids, g.ints([-1, 1])]), g.ints([1, e])]);
  const scatterIndex = g.op('Concat', [rowIndex('input_ids'), rowIndex(safeTargets)], { axis: 0 });
  const scatterUpdates = g.op('Concat', [dx, g.op('Neg', [weightedHidden])], { axis: 0 });
  grads.set('transformer.wte.weight', opWithString(g, 'ScatterElements', [dWteHead, scatterIndex, scatterUpdates], { axis: 0 }, 'reduction', 'add'));

  const paramNames = shapes.map(([name]) => name);
  emitAdamW(g, paramNames, grads);
  for (const [name, dims] of shapes) inputs.push(valueInfo(adamMName(name), 'float32', dims), valueInfo(adamVName(name), 'float32', dims));
  for (const name of Object.values(STEP_INPUTS)) inputs.push(valueInfo(name, 'float32', []));
  const outputs = [valueInfo('loss', 'float32', []), valueInfo('grad_norm', 'float32', [])];
  for (const [name, dims] of shapes) {
    for (const tensor of [name, adamMName(name), adamVName(name)]) outputs.push(valueInfo(updatedName(tensor), 'float32', dims));
  }
  if (options.emitGradients) {
    for (const [name, dims] of shapes) {
      g.op('Identity', [grads.get(name) as string], {}, gradName(name));
      outputs.push(valueInfo(gradName(name), 'float32', dims));
    }
  }
  return g.toModelBytes({ name: 'gpt2_train_step', inputs, outputs }, 'posthuman-gateway trainer');
}
