// Writes a tiny seeded GPT-2 as a model folder laid out like a Hugging Face Optimum / transformers.js
// export: onnx/model.onnx, config.json, generation_config.json, tokenizer.json, tokenizer_config.json.
import { type Gpt2Config, TINY_GPT2_CONFIG } from './gpt2-config.js';
import { type Gpt2Weights, initGpt2Weights } from './gpt2-weights.js';
import { writeModelFolder } from './model-folder-writer.js';

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
  const written = await writeModelFolder(outDir, config, weights, { posthuman_tiny_gpt2_seed: seed });
  return { dir: outDir, onnxPath: written.onnxPath, weightsSha256: written.weightsSha256, config, weights };
}
