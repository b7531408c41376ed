// The ONNX checks that run on upload and again in the worker before onnxruntime sees a model: no
// tensor may live outside the model's own bytes, and graphs stay within the documented limits.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderSession } from '../../../src/runtime/decoder-session.js';
import { parseGpt2Config } from '../../../src/runtime/gpt2-config.js';
import { createInferenceEngine, ModelLoadError } from '../../../src/runtime/index.js';
import { validateModelFolderIsolated } from '../../../src/runtime/model-validation-process.js';
import { checkOnnxModel, ONNX_MODEL_LIMITS } from '../../../src/runtime/onnx-model-checks.js';
import { onnx, valueInfo } from '../../../src/runtime/onnx-graph-writer.js';
import {
  externalTensor,
  withExternalAttribute,
  withExternalInitializer,
  withExternalInSubgraph,
  withExternalSparseInitializer,
} from '../../helpers/hostile-models.js';
import { buildTinyModelInTemp, makeTempDir } from './tiny-model-fixture.js';

let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
let scratch: Awaited<ReturnType<typeof makeTempDir>>;
let tiny: Uint8Array;

beforeAll(async () => {
  model = await buildTinyModelInTemp();
  scratch = await makeTempDir();
  tiny = new Uint8Array(await readFile(model.onnxPath));
}, 60_000);
afterAll(async () => {
  await model?.remove();
  await scratch?.remove();
});

const encode = (m: onnxProto.onnx.IModelProto) => onnx.ModelProto.encode(m).finish();
const minimal = (graph: Partial<onnxProto.onnx.IGraphProto>, extra: Partial<onnxProto.onnx.IModelProto> = {}) =>
  encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'g', ...graph }, ...extra });

describe('checkOnnxModel', () => {
  it('accepts the tiny model', () => {
    expect(checkOnnxModel(tiny)).toMatchObject({ opset: 17 });
  });

  it('refuses external data in initializers, node attributes, subgraphs and sparse initializers', () => {
    const location = '.posthuman/operator-token';
    expect(() => checkOnnxModel(withExternalInitializer(tiny, location))).toThrow(/main graph initializers is stored as external data \(location "\.posthuman\/operator-token"\)/);
    expect(() => checkOnnxModel(withExternalAttribute(tiny, location))).toThrow(/attribute "value" is stored as external data/);
    expect(() => checkOnnxModel(withExternalInSubgraph(tiny, location))).toThrow(/subgraph .*external data/);
    expect(() => checkOnnxModel(withExternalSparseInitializer(tiny, location))).toThrow(/sparse values.*external data/);
    // data_location alone (no entries) and entries alone (no data_location) are each refused.
    const flagOnly = { ...externalTensor('a', 'x'), externalData: [] };
    const entriesOnly = { ...externalTensor('b', 'x'), dataLocation: onnx.TensorProto.DataLocation.DEFAULT };
    for (const t of [flagOnly, entriesOnly]) expect(() => checkOnnxModel(minimal({ initializer: [t] }))).toThrow(ModelLoadError);
    const inFunction = minimal(
      { node: [] },
      { functions: [{ name: 'f', domain: '', node: [{ opType: 'Constant', output: ['c'], attribute: [{ name: 'value', type: 4, t: externalTensor('fc', 'x') }] }] }] },
    );
    expect(() => checkOnnxModel(inFunction)).toThrow(/function "f".*external data/);
  });

  it('refuses graphs beyond the documented limits', () => {
    expect(() => checkOnnxModel(minimal({}, { opsetImport: [{ domain: '', version: 7 }] }))).toThrow(/opset 7 is outside 13\.\.23/);
    expect(() => checkOnnxModel(minimal({}, { opsetImport: [{ domain: '', version: 17 }, { domain: 'evil.ops', version: 1 }] }))).toThrow(/"evil\.ops"/);
    expect(() => checkOnnxModel(minimal({}, { irVersion: 99 }))).toThrow(/IR version 99/);
    expect(() => checkOnnxModel(minimal({}, { trainingInfo: [{}] }))).toThrow(/training_info/);
    const huge = { name: 'h', dims: [ONNX_MODEL_LIMITS.maxTensorElements + 1], dataType: 1 };
    expect(() => checkOnnxModel(minimal({ initializer: [huge] }))).toThrow(/268435457 elements/);
    expect(() => checkOnnxModel(minimal({ initializer: [{ name: 'n', dims: [-1], dataType: 1 }] }))).toThrow(/invalid dimension -1/);
    const nodes = Array.from({ length: ONNX_MODEL_LIMITS.maxNodes + 1 }, (_, i) => ({ opType: 'Identity', input: ['x'], output: [`y${i}`] }));
    expect(() => checkOnnxModel(minimal({ node: nodes }))).toThrow(/more than 100000 nodes/);
    expect(() => checkOnnxModel(Uint8Array.of(0xff, 0xff, 0xff))).toThrow(/not a readable ONNX model/);
  });
});

describe('the worker-side loader', () => {
  it('refuses a model that onnxruntime itself would load from a path relative to the cwd', async () => {
    // The threat is real: from bytes, onnxruntime-node reads external data relative to the process's cwd.
    const leak = minimal({
      initializer: [externalTensor('secret', 'package.json', 4)],
      node: [{ opType: 'Identity', input: ['secret'], output: ['out'] }],
      output: [valueInfo('out', 'float32', [4])],
    });
    const session = await ort.InferenceSession.create(leak, { graphOptimizationLevel: 'disabled' });
    const out = (await session.run({})).out.data as Float32Array;
    await session.release();
    expect(Buffer.from(out.buffer, out.byteOffset, 16).toString('utf8')).toBe((await readFile('package.json', 'utf8')).slice(0, 16));

    const config = parseGpt2Config(JSON.parse(await readFile(join(model.dir, 'config.json'), 'utf8')));
    await expect(DecoderSession.create(leak, config, 1)).rejects.toThrow(/external data \(location "package\.json"\)/);
  });

  it('refuses an external-data model that somehow got into the weights store', async () => {
    const dir = join(scratch.dir, 'stored-hostile');
    await mkdir(join(dir, 'onnx'), { recursive: true });
    await writeFile(join(dir, 'config.json'), await readFile(join(model.dir, 'config.json')));
    await writeFile(join(dir, 'onnx', 'model.onnx'), withExternalInSubgraph(tiny, 'package.json'));
    const engine = createInferenceEngine({ modelDir: dir });
    await expect(engine).rejects.toBeInstanceOf(ModelLoadError);
    await expect(engine).rejects.toThrow(/external data/);
  });
});

describe('validation in a bounded process', { timeout: 60_000 }, () => {
  it('validates the tiny model and reports the files it keeps', async () => {
    const validated = await validateModelFolderIsolated(model.dir);
    expect(validated).toMatchObject({ onnxFile: 'onnx/model.onnx', keptFiles: ['config.json', 'generation_config.json', 'onnx/model.onnx'] });
  });

  it('turns a breach of its memory limit or deadline into a refusal, not a gateway crash', async () => {
    await expect(validateModelFolderIsolated(model.dir, { addressSpaceBytes: 600 * 1024 ** 2 })).rejects.toThrow(/memory limit|validation process failed/);
    await expect(validateModelFolderIsolated(model.dir, { wallMs: 1 })).rejects.toThrow(/took longer than/);
  });
});
