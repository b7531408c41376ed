// Builds the GPT-2 decoder-with-past ONNX graph from a weights dictionary, with the I/O names and
// shapes of a Hugging Face Optimum `text-generation-with-past` export (model.onnx).
import { type Gpt2Config, headDim } from './gpt2-config.js';
import { type Gpt2Weights, layerPrefix, requireWeight } from './gpt2-weights.js';
import { OnnxGraphWriter, valueInfo } from './onnx-graph-writer.js';

/** float32's lowest value, the score HF GPT-2 gives to masked positions (finite, so an all-masked padding row stays NaN-free). */
const MASKED_SCORE = -3.4028234663852886e38;

export const pastKeyName = (layer: number): string => `past_key_values.${layer}.key`;
export const pastValueName = (layer: number): string => `past_key_values.${layer}.value`;
export const presentKeyName = (layer: number): string => `present.${layer}.key`;
export const presentValueName = (layer: number): string => `present.${layer}.value`;

export function buildGpt2DecoderOnnx(config: Gpt2Config, weights: Gpt2Weights): Uint8Array {
  const g = new OnnxGraphWriter();
  const e = config.nEmbd;
  const h = config.nHead;
  const d = headDim(config);
  for (const [name, tensor] of weights) g.floatTensor(name, tensor.shape, tensor.data);
  requireWeight(weights, 'transformer.wte.weight');

  // Mask shared by all layers: key j is visible to query i (absolute position past+i) when
  // j <= past+i and attention_mask[b, j] = 1; built from runtime shapes so any past length works.
  const seqLen = g.op('Shape', ['input_ids'], { start: 1, end: 2 });
  const totalLen = g.op('Shape', ['attention_mask'], { start: 1, end: 2 });
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const axis0 = g.ints([0]);
  const totalScalar = g.op('Squeeze', [totalLen, axis0]);
  const pastScalar = g.op('Squeeze', [pastLen, axis0]);
  const one = g.scalarInt(1);
  const keyPos = g.op('Range', [g.scalarInt(0), totalScalar, one]);
  const queryPos = g.op('Range', [pastScalar, totalScalar, one]);
  const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [keyPos, axis0]), g.op('Unsqueeze', [queryPos, g.ints([1])])]);
  const padding = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: 9 }), g.ints([1, 2])]);
  const allowed = g.op('And', [causal, padding]); // [batch, 1, seq, past+seq]
  const maskedScore = g.scalarFloat(MASKED_SCORE);
  const scale = g.scalarFloat(Math.sqrt(d));
  const headsShape = g.ints([0, 0, h, d]);
  const mergedShape = g.ints([0, 0, e]);

  const layerNorm = (x: string, prefix: string): string =>
    g.op('LayerNormalization', [x, `${prefix}.weight`, `${prefix}.bias`], { axis: -1, epsilon: { float: config.layerNormEpsilon } });
  const conv1d = (x: string, prefix: string): string => g.op('Add', [g.op('MatMul', [x, `${prefix}.weight`]), `${prefix}.bias`]);

  let hidden = g.op('Add', [g.op('Gather', ['transformer.wte.weight', 'input_ids']), g.op('Gather', ['transformer.wpe.weight', 'position_ids'])]);
  for (let i = 0; i < config.nLayer; i++) {
    const p = layerPrefix(i);
    const qkv = conv1d(layerNorm(hidden, `${p}.ln_1`), `${p}.attn.c_attn`);
    const [q, k, v] = g.opN('Split', [qkv, g.ints([e, e, e])], 3, { axis: 2 });
    const toHeads = (x: string): string => g.op('Transpose', [g.op('Reshape', [x, headsShape])], { perm: [0, 2, 1, 3] });
    const presentKey = g.op('Concat', [pastKeyName(i), toHeads(k)], { axis: 2 }, presentKeyName(i));
    const presentValue = g.op('Concat', [pastValueName(i), toHeads(v)], { axis: 2 }, presentValueName(i));
    const scores = g.op('Div', [g.op('MatMul', [toHeads(q), g.op('Transpose', [presentKey], { perm: [0, 1, 3, 2] })]), scale]);
    const probs = g.op('Softmax', [g.op('Where', [allowed, scores, maskedScore])], { axis: -1 });
    const context = g.op('Transpose', [g.op('MatMul', [probs, presentValue])], { perm: [0, 2, 1, 3] });
    hidden = g.op('Add', [hidden, conv1d(g.op('Reshape', [context, mergedShape]), `${p}.attn.c_proj`)]);
    const fc = conv1d(layerNorm(hidden, `${p}.ln_2`), `${p}.mlp.c_fc`);
    hidden = g.op('Add', [hidden, conv1d(geluNew(g, fc), `${p}.mlp.c_proj`)]);
  }
  // Tied LM head: Gemm with transB reads wte [vocab, embd] in place, so the matrix is stored once.
  const flat = g.op('Reshape', [layerNorm(hidden, 'transformer.ln_f'), g.ints([-1, e])]);
  const flatLogits = g.op('Gemm', [flat, 'transformer.wte.weight'], { transB: 1 });
  const logitsShape = g.op('Concat', [g.op('Shape', ['input_ids']), g.ints([config.vocabSize])], { axis: 0 });
  g.op('Reshape', [flatLogits, logitsShape], {}, 'logits');

  const inputs = [
    valueInfo('input_ids', 'int64', ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', 'int64', ['batch_size', 'past_sequence_length + sequence_length']),
    valueInfo('position_ids', 'int64', ['batch_size', 'sequence_length']),
  ];
  const outputs = [valueInfo('logits', 'float32', ['batch_size', 'sequence_length', config.vocabSize])];
  for (let i = 0; i < config.nLayer; i++) {
    for (const name of [pastKeyName(i), pastValueName(i)]) inputs.push(valueInfo(name, 'float32', ['batch_size', h, 'past_sequence_length', d]));
    for (const name of [presentKeyName(i), presentValueName(i)]) {
      outputs.push(valueInfo(name, 'float32', ['batch_size', h, 'past_sequence_length + sequence_length', d]));
    }
  }
  return g.toModelBytes({ name: 'main_graph', inputs, outputs }, 'posthuman-gateway tiny-gpt2');
}

/** GPT-2's "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function geluNew(g: OnnxGraphWriter, x: string): string {
  const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.scalarFloat(0.044715)])]), g.scalarFloat(Math.sqrt(2 / Math.PI))]);
  const gate = g.op('Add', [g.op('Tanh', [inner]), g.scalarFloat(1)]);
  return g.op('Mul', [g.op('Mul', [x, g.scalarFloat(0.5)]), gate]);
}
