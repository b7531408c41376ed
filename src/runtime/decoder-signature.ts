// Checks that an ONNX decoder has the Optimum decoder-with-past I/O the runtime feeds, for the
// config's layer count; tells which optional inputs it takes.
import { type Gpt2Config, headDim } from './gpt2-config.js';
import { ModelLoadError } from './runtime-errors.js';

export interface DecoderSignature {
  /** Older Optimum exports have no position_ids input (positions come from the mask inside). */
  hasPositionIds: boolean;
  /** decoder_model_merged.onnx takes a use_cache_branch flag. */
  hasUseCacheBranch: boolean;
}

interface ValueMeta {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

export function checkDecoderSignature(
  inputs: readonly ValueMeta[],
  outputs: readonly ValueMeta[],
  config: Gpt2Config,
): DecoderSignature {
  const inputNames = new Set(inputs.map((m) => m.name));
  const outputNames = new Set(outputs.map((m) => m.name));
  const required = ['input_ids', 'attention_mask'];
  const requiredOut = ['logits'];
  for (let i = 0; i < config.nLayer; i++) {
    required.push(`past_key_values.${i}.key`, `past_key_values.${i}.value`);
    requiredOut.push(`present.${i}.key`, `present.${i}.value`);
  }
  const missing = required.filter((n) => !inputNames.has(n));
  const missingOut = requiredOut.filter((n) => !outputNames.has(n));
  if (missing.length > 0 || missingOut.length > 0) {
    throw new ModelLoadError(
      `the ONNX decoder lacks ${[...missing, ...missingOut].join(', ')} (expected an Optimum decoder-with-past export with n_layer=${config.nLayer})`,
    );
  }
  const known = new Set([...required, 'position_ids', 'use_cache_branch']);
  const unknown = [...inputNames].filter((n) => !known.has(n));
  if (unknown.length > 0) throw new ModelLoadError(`the ONNX decoder has inputs the runtime cannot feed: ${unknown.join(', ')}`);
  for (const meta of inputs) {
    if (!meta.name.startsWith('past_key_values.') || !meta.isTensor) continue;
    if (meta.type !== 'float32') throw new ModelLoadError(`${meta.name} is ${meta.type}; only float32 decoders are supported`);
    // [batch, heads, past, head_dim]: where the export fixes heads and head_dim, they must match config.json.
    const [, heads, , dim] = meta.shape ?? [];
    if ((typeof heads === 'number' && heads !== config.nHead) || (typeof dim === 'number' && dim !== headDim(config))) {
      throw new ModelLoadError(
        `${meta.name} has shape [${meta.shape?.join(', ')}] but config.json gives n_head=${config.nHead}, head_dim=${headDim(config)}`,
      );
    }
  }
  return { hasPositionIds: inputNames.has('position_ids'), hasUseCacheBranch: inputNames.has('use_cache_branch') };
}
