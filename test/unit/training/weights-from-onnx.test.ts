import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGpt2DecoderOnnx } from '../../../src/runtime/gpt2-graph-builder.js';
import { onnx } from '../../../src/runtime/onnx-graph-writer.js';
import { ModelNotTrainableError, readGpt2WeightsFromOnnx, readModelFolderWeights } from '../../../src/training/weights-from-onnx.js';
import { sha256Hex, writeModelFolder } from '../../../src/training/index.js';
import { buildTinyModelInTemp, makeTempDir } from '../runtime/tiny-model-fixture.js';

describe('reading weights back from model.onnx', () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let bytes: Uint8Array;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    bytes = await readFile(model.onnxPath);
  });
  afterAll(() => model?.remove());

  it('recovers every parameter, so rebuilding gives the identical bytes', () => {
    const weights = readGpt2WeightsFromOnnx(bytes, model.config);
    expect([...weights.keys()]).toEqual([...model.weights.keys()]);
    for (const [name, tensor] of model.weights) expect(Buffer.from(weights.get(name)!.data.buffer).equals(Buffer.from(tensor.data.buffer))).toBe(true);
    expect(sha256Hex(buildGpt2DecoderOnnx(model.config, weights))).toBe(model.weightsSha256);
  });

  it('reads a whole folder, and writeModelFolder of the same weights reproduces the sha256', async () => {
    const read = await readModelFolderWeights(model.dir);
    expect(read.weightsSha256).toBe(model.weightsSha256);
    const temp = await makeTempDir();
    try {
      const written = await writeModelFolder(join(temp.dir, 'copy'), read.config, read.weights, { posthuman_note: 'copy' });
      expect(written.weightsSha256).toBe(model.weightsSha256);
      const config = JSON.parse(await readFile(join(temp.dir, 'copy', 'config.json'), 'utf8'));
      expect(config.posthuman_note).toBe('copy');
      expect(config.n_embd).toBe(model.config.nEmbd);
    } finally {
      await temp.remove();
    }
  });

  it('refuses a decoder whose initializers lack the Hugging Face names', () => {
    const proto = onnx.ModelProto.decode(bytes);
    const renamed = proto.graph!.initializer!.find((t) => t.name === 'transformer.h.1.mlp.c_fc.weight')!;
    renamed.name = 'onnx::MatMul_1234';
    for (const node of proto.graph!.node!) node.input = node.input!.map((i) => (i === 'transformer.h.1.mlp.c_fc.weight' ? 'onnx::MatMul_1234' : i));
    const edited = onnx.ModelProto.encode(proto).finish();
    expect(() => readGpt2WeightsFromOnnx(edited, model.config)).toThrow(ModelNotTrainableError);
    expect(() => readGpt2WeightsFromOnnx(edited, model.config)).toThrow(/model_not_trainable.*transformer\.h\.1\.mlp\.c_fc\.weight/);
  });

  it('refuses a config whose shapes differ from the stored tensors', () => {
    expect(() => readGpt2WeightsFromOnnx(bytes, { ...model.config, nPositions: 64 })).toThrow(/shape/);
  });
});
