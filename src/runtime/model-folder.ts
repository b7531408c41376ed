// Reads a model folder (a Hugging Face Optimum or transformers.js style export of a GPT-2): its
// config.json and which ONNX decoder file to run. Validation with hashing lives here too so the
// CLI (model:add) and the worker agree on what a valid folder is.
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Gpt2Config, parseGpt2Config } from './gpt2-config.js';
import { ModelLoadError } from './runtime-errors.js';

/**
 * Decoder files in preference order. model.onnx is Optimum's `text-generation-with-past` export
 * (past inputs always present, empty on the first step); decoder_model_merged.onnx adds a
 * use_cache_branch flag; decoder_with_past_model.onnx is fed empty pasts on the first step.
 * transformers.js puts them under onnx/, optimum-cli at the top level.
 */
export const DECODER_FILE_CANDIDATES = [
  'onnx/model.onnx',
  'model.onnx',
  'onnx/decoder_model_merged.onnx',
  'decoder_model_merged.onnx',
  'onnx/decoder_with_past_model.onnx',
  'decoder_with_past_model.onnx',
];

/** The JSON files the runtime reads: config.json (required) and generation_config.json (optional). */
export const MODEL_CONFIG_FILES = ['config.json', 'generation_config.json'] as const;

/**
 * Tokenizer files every Optimum / transformers.js export carries. The runtime tokenizes with the
 * built-in GPT-2 BPE and never reads them, so an upload may include them but they are dropped.
 */
export const IGNORED_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.json', 'merges.txt', 'special_tokens_map.json'];

/** Every file of the model folder format the runtime reads; a stored folder holds nothing else. */
export const MODEL_FOLDER_FILES: readonly string[] = [...MODEL_CONFIG_FILES, ...DECODER_FILE_CANDIDATES];

export interface ModelFolder {
  dir: string;
  config: Gpt2Config;
  /** Absolute path of the decoder ONNX file. */
  onnxPath: string;
  /** The candidate path that matched, relative to dir. */
  onnxFile: string;
  /** The files the runtime reads from this folder, relative to dir: what the weights store keeps. */
  keptFiles: string[];
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export async function inspectModelFolder(modelDir: string): Promise<ModelFolder> {
  const dir = resolve(modelDir);
  const config = parseGpt2Config(await readJson(join(dir, 'config.json')));
  // generation_config.json, when present, is what HF generate() uses for the end-of-text token.
  if (await exists(join(dir, 'generation_config.json'))) {
    const generation = (await readJson(join(dir, 'generation_config.json'))) as Record<string, unknown>;
    if (typeof generation.eos_token_id === 'number') config.eosTokenId = generation.eos_token_id;
  }
  for (const onnxFile of DECODER_FILE_CANDIDATES) {
    const onnxPath = join(dir, onnxFile);
    if (!(await exists(onnxPath))) continue;
    // Sessions are built from bytes that were hashed; weights in a side file would escape the hash.
    for (const side of [`${onnxPath}_data`, `${onnxPath}.data`]) {
      if (await exists(side)) throw new ModelLoadError(`${onnxFile} uses external data (${side}); only single-file ONNX models are supported`);
    }
    const keptFiles = ['config.json', ...((await exists(join(dir, 'generation_config.json'))) ? ['generation_config.json'] : []), onnxFile];
    return { dir, config, onnxPath, onnxFile, keptFiles };
  }
  throw new ModelLoadError(`no ONNX decoder in ${dir} (looked for ${DECODER_FILE_CANDIDATES.join(', ')})`);
}
