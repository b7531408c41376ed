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

export interface ModelFolder {
  dir: string;
  config: Gpt2Config;
  /** Absolute path of the decoder ONNX file. */
  onnxPath: string;
  /** The candidate path that matched, relative to dir. */
  onnxFile: string;
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
    return { dir, config, onnxPath, onnxFile };
  }
  throw new ModelLoadError(`no ONNX decoder in ${dir} (looked for ${DECODER_FILE_CANDIDATES.join(', ')})`);
}
