// Validates a model folder end to end for registration (npm run model:add): config, decoder file,
// streaming sha256 (checked against an expected one when given) and the decoder's I/O signature.
import { stat } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { checkDecoderSignature, type DecoderSignature } from './decoder-signature.js';
import type { Gpt2Config } from './gpt2-config.js';
import { inspectModelFolder } from './model-folder.js';
import { ModelLoadError } from './runtime-errors.js';
import { sha256File, verifyWeightsSha256 } from './weights-file.js';

export interface ValidatedModel {
  dir: string;
  onnxFile: string;
  weightsSha256: string;
  sizeBytes: number;
  config: Gpt2Config;
  signature: DecoderSignature;
  runtime: { name: 'onnxruntime-node'; version: string };
}

export async function validateModelFolder(modelDir: string, options: { expectedSha256?: string } = {}): Promise<ValidatedModel> {
  const folder = await inspectModelFolder(modelDir);
  const weightsSha256 = await sha256File(folder.onnxPath);
  verifyWeightsSha256(weightsSha256, options.expectedSha256);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(folder.onnxPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw new ModelLoadError(`onnxruntime could not load ${folder.onnxFile}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const signature = checkDecoderSignature(session.inputMetadata, session.outputMetadata, folder.config);
    return {
      dir: folder.dir,
      onnxFile: folder.onnxFile,
      weightsSha256,
      sizeBytes: (await stat(folder.onnxPath)).size,
      config: folder.config,
      signature,
      runtime: { name: 'onnxruntime-node', version: ort.env.versions.node ?? ort.env.versions.common },
    };
  } finally {
    await session.release();
  }
}
