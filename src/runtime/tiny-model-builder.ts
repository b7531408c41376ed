// Writes a tiny seeded GPT-2 as a model folder laid out like a Hugging Face Optimum / transformers.js
// export: onnx/model.onnx, config.json, generation_config.json, tokenizer.json, tokenizer_config.json.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildGpt2DecoderOnnx } from './gpt2-graph-builder.js';
import { type Gpt2Config, TINY_GPT2_CONFIG, toHfConfigJson } from './gpt2-config.js';
import { type Gpt2Weights, initGpt2Weights } from './gpt2-weights.js';
import { gpt2TokenizerJsonText } from './hf-tokenizer-json.js';
import { END_OF_TEXT } from './gpt2-tokenizer.js';

export const DEFAULT_TINY_MODEL_DIR = '.posthuman/models/tiny-gpt2';
export const DEFAULT_TINY_SEED = 42;

export interface BuildTinyModelOptions {
  seed?: number;
  config?: Gpt2Config;
  /** Test hook: edit the weights before the graph is written (e.g. to force EOS). */
  mutateWeights?: (weights: Gpt2Weights) => void;
}

export interface BuiltTinyModel {
  dir: string;
  onnxPath: string;
  weightsSha256: string;
  config: Gpt2Config;
  weights: Gpt2Weights;
}

/** Same seed (and config) -> byte-identical model.onnx, so its sha256 is stable across machines. */
export async function buildTinyModel(outDir: string, options: BuildTinyModelOptions = {}): Promise<BuiltTinyModel> {
  const seed = options.seed ?? DEFAULT_TINY_SEED;
  const config = options.config ?? TINY_GPT2_CONFIG;
  const weights = initGpt2Weights(config, seed);
  options.mutateWeights?.(weights);
  const onnxBytes = buildGpt2DecoderOnnx(config, weights);
  const onnxPath = join(outDir, 'onnx', 'model.onnx');
  await mkdir(join(outDir, 'onnx'), { recursive: true });
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  await Promise.all([
    writeFile(onnxPath, onnxBytes),
    writeFile(join(outDir, 'config.json'), json(toHfConfigJson(config, { posthuman_tiny_gpt2_seed: seed }))),
    writeFile(
      join(outDir, 'generation_config.json'),
      json({ _from_model_config: true, bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId, transformers_version: '4.46.3' }),
    ),
    writeFile(join(outDir, 'tokenizer.json'), gpt2TokenizerJsonText()),
    writeFile(
      join(outDir, 'tokenizer_config.json'),
      json({
        add_prefix_space: false,
        bos_token: END_OF_TEXT,
        eos_token: END_OF_TEXT,
        unk_token: END_OF_TEXT,
        model_max_length: config.nPositions,
        tokenizer_class: 'GPT2Tokenizer',
      }),
    ),
  ]);
  const weightsSha256 = createHash('sha256').update(onnxBytes).digest('hex');
  return { dir: outDir, onnxPath, weightsSha256, config, weights };
}
