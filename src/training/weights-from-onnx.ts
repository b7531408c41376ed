// Reads the GPT-2 weights dictionary back out of a decoder model.onnx whose initializers carry the
// Hugging Face parameter names (what buildGpt2DecoderOnnx writes), so a served model can be the
// parent of a fine-tune. Exports whose initializers were renamed or folded are refused.
import { readFile } from 'node:fs/promises';
import type onnxProto from 'onnx-proto';
import type { Gpt2Config } from '../runtime/gpt2-config.js';
import { type Gpt2Weights, gpt2ParameterShapes } from '../runtime/gpt2-weights.js';
import { inspectModelFolder } from '../runtime/model-folder.js';
import { checkOnnxModel } from '../runtime/onnx-model-checks.js';
import { onnx } from '../runtime/onnx-graph-writer.js';
import { RuntimeError } from '../runtime/runtime-errors.js';
import { sha256Bytes as sha256Hex } from '../runtime/weights-file.js';

/** The model's ONNX does not hold the parameters under the names (and shapes) training needs. */
export class ModelNotTrainableError extends RuntimeError {
  readonly code = 'model_not_trainable';
  constructor(reason: string) {
    super(`model_not_trainable: ${reason}`);
    this.name = 'ModelNotTrainableError';
  }
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function floatData(tensor: onnxProto.onnx.ITensorProto, name: string, size: number): Float32Array {
  if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) throw new ModelNotTrainableError(`initializer ${name} is not float32`);
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== size * 4) throw new ModelNotTrainableError(`initializer ${name} holds ${raw.length} bytes, expected ${size * 4}`);
    const data = new Float32Array(size);
    if (HOST_IS_LITTLE_ENDIAN) new Uint8Array(data.buffer).set(raw);
    else {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < size; i++) data[i] = view.getFloat32(i * 4, true);
    }
    return data;
  }
  const values = tensor.floatData ?? [];
  if (values.length !== size) throw new ModelNotTrainableError(`initializer ${name} holds ${values.length} values, expected ${size}`);
  return Float32Array.from(values);
}

/** Every parameter of `config` by its HF name; throws ModelNotTrainableError when one is missing or misshapen. */
export function readGpt2WeightsFromOnnx(onnxBytes: Uint8Array, config: Gpt2Config): Gpt2Weights {
  checkOnnxModel(onnxBytes); // external data and oversized graphs are refused before anything is read
  const graph = onnx.ModelProto.decode(onnxBytes).graph;
  const initializers = new Map((graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const weights: Gpt2Weights = new Map();
  for (const [name, shape] of gpt2ParameterShapes(config)) {
    const tensor = initializers.get(name);
    if (!tensor) {
      throw new ModelNotTrainableError(
        `the ONNX file has no initializer named ${name}; only decoders that keep the Hugging Face parameter names (as this gateway's own models do) can be trained`,
      );
    }
    const dims = (tensor.dims ?? []).map(Number);
    if (dims.length !== shape.length || dims.some((d, i) => d !== shape[i])) {
      throw new ModelNotTrainableError(`initializer ${name} has shape [${dims}], expected [${shape}] for this config`);
    }
    weights.set(name, { shape, data: floatData(tensor, name, shape.reduce((a, b) => a * b, 1)) });
  }
  return weights;
}

/** A model folder's config and weights, with the sha256 of the decoder bytes they were read from. */
export async function readModelFolderWeights(modelDir: string): Promise<{ config: Gpt2Config; weights: Gpt2Weights; weightsSha256: string }> {
  const folder = await inspectModelFolder(modelDir);
  const bytes = await readFile(folder.onnxPath);
  return { config: folder.config, weights: readGpt2WeightsFromOnnx(bytes, folder.config), weightsSha256: sha256Hex(bytes) };
}
