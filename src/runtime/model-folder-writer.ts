// Writes a servable model folder from a config and a weights dictionary (onnx/model.onnx, config.json,
// generation_config.json, tokenizer files): the seeded tiny model and every trained model, so either
// loads with createInferenceEngine exactly as any other export.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildGpt2DecoderOnnx } from './gpt2-graph-builder.js';
import { type Gpt2Config, toHfConfigJson } from './gpt2-config.js';
import type { Gpt2Weights } from './gpt2-weights.js';
import { END_OF_TEXT } from './gpt2-tokenizer.js';
import { gpt2TokenizerJsonText } from './hf-tokenizer-json.js';
import { sha256Bytes } from './weights-file.js';

export interface WrittenModelFolder {
  dir: string;
  onnxPath: string;
  /** sha256 of onnx/model.onnx: the model's weights hash everywhere in the gateway. */
  weightsSha256: string;
  onnxBytes: number;
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Same config and weights -> byte-identical model.onnx (the graph writer is deterministic).
 * `extraConfig` is merged into config.json (e.g. a `posthuman_training` provenance block).
 */
export async function writeModelFolder(
  outDir: string,
  config: Gpt2Config,
  weights: Gpt2Weights,
  extraConfig: Record<string, unknown> = {},
): Promise<WrittenModelFolder> {
  const onnx = buildGpt2DecoderOnnx(config, weights);
  const onnxPath = join(outDir, 'onnx', 'model.onnx');
  await mkdir(join(outDir, 'onnx'), { recursive: true });
  await Promise.all([
    writeFile(onnxPath, onnx),
    writeFile(join(outDir, 'config.json'), json(toHfConfigJson(config, extraConfig))),
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
  return { dir: outDir, onnxPath, weightsSha256: sha256Bytes(onnx), onnxBytes: onnx.length };
}
