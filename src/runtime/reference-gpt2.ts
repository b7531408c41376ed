// A float64 GPT-2 forward pass in plain TypeScript over the same weights dictionary: the test
// oracle for the ONNX graph (logits, log-probs). Slow by design; never used to serve requests.
import { type Gpt2Config, headDim } from './gpt2-config.js';
import { type Gpt2Weights, layerPrefix, requireWeight } from './gpt2-weights.js';

type Matrix = Float64Array[]; // one row per position

function layerNorm(x: Matrix, gain: Float32Array, bias: Float32Array, eps: number): Matrix {
  return x.map((row) => {
    let mean = 0;
    for (const v of row) mean += v;
    mean /= row.length;
    let variance = 0;
    for (const v of row) variance += (v - mean) ** 2;
    variance /= row.length;
    const inv = 1 / Math.sqrt(variance + eps);
    return row.map((v, j) => (v - mean) * inv * gain[j] + bias[j]);
  });
}

/** x [n, in] @ W [in, out] + b, with W in HF Conv1D layout. */
function conv1d(x: Matrix, w: Float32Array, b: Float32Array): Matrix {
  const outDim = b.length;
  return x.map((row) => {
    const out = Float64Array.from(b);
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      const base = i * outDim;
      for (let j = 0; j < outDim; j++) out[j] += v * w[base + j];
    }
    return out;
  });
}

const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Causal self-attention of one sequence (no padding, no past). */
function attention(qkv: Matrix, config: Gpt2Config): Matrix {
  const e = config.nEmbd;
  const d = headDim(config);
  const n = qkv.length;
  const out: Matrix = qkv.map(() => new Float64Array(e));
  for (let head = 0; head < config.nHead; head++) {
    const q0 = head * d;
    const k0 = e + head * d;
    const v0 = 2 * e + head * d;
    for (let i = 0; i < n; i++) {
      const scores = new Float64Array(i + 1);
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += qkv[i][q0 + t] * qkv[j][k0 + t];
        scores[j] = s / Math.sqrt(d);
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) {
        scores[j] = Math.exp(scores[j] - max);
        sum += scores[j];
      }
      for (let j = 0; j <= i; j++) {
        const p = scores[j] / sum;
        for (let t = 0; t < d; t++) out[i][q0 + t] += p * qkv[j][v0 + t];
      }
    }
  }
  return out;
}

/** Final hidden states (after ln_f) of one unpadded sequence whose first token sits at position 0. */
export function referenceHiddenStates(config: Gpt2Config, weights: Gpt2Weights, tokenIds: number[]): Matrix {
  const w = (name: string): Float32Array => requireWeight(weights, name).data;
  const e = config.nEmbd;
  const wte = w('transformer.wte.weight');
  const wpe = w('transformer.wpe.weight');
  let x: Matrix = tokenIds.map((id, pos) => {
    const row = new Float64Array(e);
    for (let j = 0; j < e; j++) row[j] = wte[id * e + j] + wpe[pos * e + j];
    return row;
  });
  const eps = config.layerNormEpsilon;
  const addInto = (a: Matrix, b: Matrix): Matrix => a.map((row, i) => row.map((v, j) => v + b[i][j]));
  for (let layer = 0; layer < config.nLayer; layer++) {
    const p = layerPrefix(layer);
    const qkv = conv1d(layerNorm(x, w(`${p}.ln_1.weight`), w(`${p}.ln_1.bias`), eps), w(`${p}.attn.c_attn.weight`), w(`${p}.attn.c_attn.bias`));
    x = addInto(x, conv1d(attention(qkv, config), w(`${p}.attn.c_proj.weight`), w(`${p}.attn.c_proj.bias`)));
    const fc = conv1d(layerNorm(x, w(`${p}.ln_2.weight`), w(`${p}.ln_2.bias`), eps), w(`${p}.mlp.c_fc.weight`), w(`${p}.mlp.c_fc.bias`));
    x = addInto(x, conv1d(fc.map((row) => row.map(geluNew)), w(`${p}.mlp.c_proj.weight`), w(`${p}.mlp.c_proj.bias`)));
  }
  return layerNorm(x, w('transformer.ln_f.weight'), w('transformer.ln_f.bias'), eps);
}

/** Logits [positions][vocab] through the tied LM head. */
export function referenceLogits(config: Gpt2Config, weights: Gpt2Weights, tokenIds: number[]): Float64Array[] {
  const wte = requireWeight(weights, 'transformer.wte.weight').data;
  const e = config.nEmbd;
  return referenceHiddenStates(config, weights, tokenIds).map((row) => {
    const logits = new Float64Array(config.vocabSize);
    for (let v = 0; v < config.vocabSize; v++) {
      let s = 0;
      const base = v * e;
      for (let j = 0; j < e; j++) s += row[j] * wte[base + j];
      logits[v] = s;
    }
    return logits;
  });
}

export function logSoftmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logSum = max + Math.log(sum);
  return logits.map((v) => v - logSum);
}

/** Mean next-token loss like GPT2LMHeadModel(labels=ids): predicts ids[1..n-1] from ids[0..n-2]. */
export function referenceLoss(config: Gpt2Config, weights: Gpt2Weights, tokenIds: number[]): { loss: number; tokens: number } {
  const logits = referenceLogits(config, weights, tokenIds);
  let total = 0;
  for (let t = 0; t + 1 < tokenIds.length; t++) total -= logSoftmax(logits[t])[tokenIds[t + 1]];
  const tokens = tokenIds.length - 1;
  return { loss: total / tokens, tokens };
}
