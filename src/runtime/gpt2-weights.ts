// The GPT-2 weights dictionary under Hugging Face parameter names (Conv1D layout [in, out]),
// and its seeded initialization for tiny test models.
import type { Gpt2Config } from './gpt2-config.js';
import { createSeededRandom } from './seeded-random.js';

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

/** Keyed by HF names such as `transformer.h.0.attn.c_attn.weight`; the LM head is tied to `transformer.wte.weight`. */
export type Gpt2Weights = Map<string, WeightTensor>;

export const layerPrefix = (layer: number): string => `transformer.h.${layer}`;

/** Every parameter name and shape, in a fixed order (the order weights are drawn from the PRNG). */
export function gpt2ParameterShapes(config: Gpt2Config): Array<[string, number[]]> {
  const e = config.nEmbd;
  const shapes: Array<[string, number[]]> = [
    ['transformer.wte.weight', [config.vocabSize, e]],
    ['transformer.wpe.weight', [config.nPositions, e]],
  ];
  for (let i = 0; i < config.nLayer; i++) {
    const p = layerPrefix(i);
    shapes.push(
      [`${p}.ln_1.weight`, [e]],
      [`${p}.ln_1.bias`, [e]],
      [`${p}.attn.c_attn.weight`, [e, 3 * e]],
      [`${p}.attn.c_attn.bias`, [3 * e]],
      [`${p}.attn.c_proj.weight`, [e, e]],
      [`${p}.attn.c_proj.bias`, [e]],
      [`${p}.ln_2.weight`, [e]],
      [`${p}.ln_2.bias`, [e]],
      [`${p}.mlp.c_fc.weight`, [e, 4 * e]],
      [`${p}.mlp.c_fc.bias`, [4 * e]],
      [`${p}.mlp.c_proj.weight`, [4 * e, e]],
      [`${p}.mlp.c_proj.bias`, [e]],
    );
  }
  shapes.push(['transformer.ln_f.weight', [e]], ['transformer.ln_f.bias', [e]]);
  return shapes;
}

/**
 * Uniform init with GPT-2's std (0.02) for matrices; layer-norm gains around 1 and small non-zero
 * biases, so a wiring mistake in any bias or gain shows up against the reference forward pass.
 * Uniform rather than Box-Muller keeps it to integer and IEEE-exact float arithmetic.
 */
export function initGpt2Weights(config: Gpt2Config, seed: number): Gpt2Weights {
  const random = createSeededRandom(seed);
  const weights: Gpt2Weights = new Map();
  const halfWidth = (std: number): number => std * Math.sqrt(3);
  for (const [name, shape] of gpt2ParameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const isGain = name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name.endsWith('ln_f.weight');
    const isBias = name.endsWith('.bias');
    const width = halfWidth(isGain ? 0.1 : isBias ? 0.02 : 0.02);
    for (let k = 0; k < size; k++) {
      const u = (random.nextFloat() * 2 - 1) * width;
      data[k] = isGain ? 1 + u : u;
    }
    weights.set(name, { shape, data });
  }
  return weights;
}

export function requireWeight(weights: Gpt2Weights, name: string): WeightTensor {
  const tensor = weights.get(name);
  if (!tensor) throw new Error(`missing weight ${name}`);
  return tensor;
}
