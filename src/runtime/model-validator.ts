// Validates a model folder end to end for registration: config, decoder file, sha256 (checked
// against an expected one when given), the ONNX checks (nothing external, within limits) and the
// decoder's I/O signature. The session is built from the hashed bytes, as the worker builds it.
// Uploads run this in a bounded child process (model-validation-process.ts), never in the gateway.
import * as ort from 'onnxruntime-node';
import { checkDecoderSignature, type DecoderSignature } from './decoder-signature.js';
import type { Gpt2Config } from './gpt2-config.js';
import { inspectModelFolder } from './model-folder.js';
import { checkOnnxModel } from './onnx-model-checks.js';
import { ModelLoadError } from './runtime-errors.js';
import { readVerifiedWeights } from './weights-file.js';

export interface ValidatedModel {
  dir: string;
  onnxFile: string;
  /** Files the runtime reads from this folder (relative paths): what the weights store keeps. */
  keptFiles: string[];
  weightsSha256: string;
  sizeBytes: number;
  config: Gpt2Config;
  signature: DecoderSignature;
  runtime: { name: 'onnxruntime-node'; version: string };
}

export async function validateModelFolder(modelDir: string, options: { expectedSha256?: string } = {}): Promise<ValidatedModel> {
  const folder = await inspectModelFolder(modelDir);
  const { bytes, sha256: weightsSha256 } = await readVerifiedWeights(folder.onnxPath, options.expectedSha256);
  checkOnnxModel(bytes);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw new ModelLoadError(`onnxruntime could not load ${folder.onnxFile}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const signature = checkDecoderSignature(session.inputMetadata, session.outputMetadata, folder.config);
    return {
      dir: folder.dir,
      onnxFile: folder.onnxFile,
      keptFiles: folder.keptFiles,
      weightsSha256,
      sizeBytes: bytes.byteLength,
      config: folder.config,
      signature,
      runtime: { name: 'onnxruntime-node', version: ort.env.versions.node ?? ort.env.versions.common },
    };
  } finally {
    await session.release();
  }
}
