import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createInferenceEngine,
  inspectModelFolder,
  ModelLoadError,
  sha256File,
  validateModelFolder,
  WeightsMismatchError,
} from '../../../src/runtime/index.js';
import { buildTinyModelInTemp, makeTempDir } from './tiny-model-fixture.js';

const WRONG_SHA = 'ab'.repeat(32);

describe('model folder loading and weights verification', { timeout: 60_000 }, () => {
  let model: Awaited<ReturnType<typeof buildTinyModelInTemp>>;
  let scratch: Awaited<ReturnType<typeof makeTempDir>>;

  beforeAll(async () => {
    model = await buildTinyModelInTemp();
    scratch = await makeTempDir();
  }, 60_000);
  afterAll(async () => {
    await model?.remove();
    await scratch?.remove();
  });

  /** A copy of the tiny model's config and ONNX, with the ONNX at `onnxFile` and config edits applied. */
  async function variant(name: string, onnxFile: string, editConfig: (c: Record<string, unknown>) => void = () => {}): Promise<string> {
    const dir = join(scratch.dir, name);
    await mkdir(join(dir, 'onnx'), { recursive: true });
    await copyFile(model.onnxPath, join(dir, onnxFile));
    const config = JSON.parse(await readFile(join(model.dir, 'config.json'), 'utf8'));
    editConfig(config);
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  }

  it('hashes the ONNX bytes (streaming) and loads with the right expected sha256', async () => {
    expect(await sha256File(model.onnxPath)).toBe(model.weightsSha256);
    const engine = await createInferenceEngine({ modelDir: model.dir, expectedSha256: model.weightsSha256.toUpperCase() });
    try {
      expect(engine.info.weightsSha256).toBe(model.weightsSha256);
    } finally {
      await engine.close();
    }
  });

  it('refuses to load weights whose sha256 differs from the expected one', async () => {
    const error = await createInferenceEngine({ modelDir: model.dir, expectedSha256: WRONG_SHA }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsMismatchError);
    expect(error).toMatchObject({ expectedSha256: WRONG_SHA, actualSha256: model.weightsSha256, code: 'weights_mismatch' });
    await expect(validateModelFolder(model.dir, { expectedSha256: WRONG_SHA })).rejects.toBeInstanceOf(WeightsMismatchError);
  });

  it('validates a folder for registration: sha256, config and decoder signature', async () => {
    const validated = await validateModelFolder(model.dir);
    expect(validated).toMatchObject({
      onnxFile: 'onnx/model.onnx',
      weightsSha256: model.weightsSha256,
      config: { nLayer: 2, nHead: 4, nEmbd: 64, nPositions: 128 },
      signature: { hasPositionIds: true, hasUseCacheBranch: false },
    });
  });

  it('finds the decoder in the optimum-cli layouts too', async () => {
    expect((await inspectModelFolder(await variant('top-level', 'model.onnx'))).onnxFile).toBe('model.onnx');
    expect((await inspectModelFolder(await variant('merged', 'decoder_model_merged.onnx'))).onnxFile).toBe('decoder_model_merged.onnx');
    const empty = join(scratch.dir, 'no-onnx');
    await mkdir(empty, { recursive: true });
    await copyFile(join(model.dir, 'config.json'), join(empty, 'config.json'));
    await expect(inspectModelFolder(empty)).rejects.toThrow(/no ONNX decoder/);
  });

  it('rejects configs it cannot serve and decoders that disagree with config.json', async () => {
    await expect(inspectModelFolder(await variant('llama', 'onnx/model.onnx', (c) => (c.model_type = 'llama')))).rejects.toBeInstanceOf(
      ModelLoadError,
    );
    await expect(inspectModelFolder(await variant('no-layers', 'onnx/model.onnx', (c) => delete c.n_layer))).rejects.toThrow(/n_layer/);
    const threeLayers = await variant('three-layers', 'onnx/model.onnx', (c) => (c.n_layer = 3));
    await expect(validateModelFolder(threeLayers)).rejects.toThrow(/past_key_values\.2\.key/);
    await expect(createInferenceEngine({ modelDir: threeLayers })).rejects.toBeInstanceOf(ModelLoadError);
    const eightHeads = await variant('eight-heads', 'onnx/model.onnx', (c) => (c.n_head = 8));
    await expect(validateModelFolder(eightHeads)).rejects.toThrow(/n_head=8, head_dim=8/);
  });

  it('refuses ONNX files with external data, whose weights the hash would not cover', async () => {
    const dir = await variant('external', 'onnx/model.onnx');
    await writeFile(join(dir, 'onnx', 'model.onnx_data'), 'weights');
    await expect(inspectModelFolder(dir)).rejects.toThrow(/external data/);
  });
});
