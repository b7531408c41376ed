import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGpt2Config } from '../../../src/runtime/gpt2-config.js';
import { buildTinyModelInTemp } from './tiny-model-fixture.js';

describe('buildTinyModel', { timeout: 60_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await Promise.all(cleanups.map((c) => c()));
  });

  it('writes byte-identical ONNX for the same seed and a different one for another seed', async () => {
    const a = await buildTinyModelInTemp({ seed: 7 });
    const b = await buildTinyModelInTemp({ seed: 7 });
    const c = await buildTinyModelInTemp({ seed: 8 });
    cleanups.push(a.remove, b.remove, c.remove);
    expect(a.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.weightsSha256).toBe(a.weightsSha256);
    expect(c.weightsSha256).not.toBe(a.weightsSha256);
    expect(Buffer.compare(await readFile(a.onnxPath), await readFile(b.onnxPath))).toBe(0);
  });

  it('lays the folder out like an Optimum export with a GPT2Config and a byte-level BPE tokenizer.json', async () => {
    const model = await buildTinyModelInTemp();
    cleanups.push(model.remove);
    const config = JSON.parse(await readFile(join(model.dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt2', n_layer: 2, n_head: 4, n_embd: 64, n_positions: 128, vocab_size: 50257 });
    expect(config.bos_token_id).toBe(50256);
    expect(parseGpt2Config(config)).toMatchObject({ nLayer: 2, nHead: 4, nEmbd: 64, nPositions: 128, eosTokenId: 50256 });
    const generation = JSON.parse(await readFile(join(model.dir, 'generation_config.json'), 'utf8'));
    expect(generation.eos_token_id).toBe(50256);
    const tokenizer = JSON.parse(await readFile(join(model.dir, 'tokenizer.json'), 'utf8'));
    expect(Object.keys(tokenizer.model.vocab)).toHaveLength(50257);
    expect(tokenizer.model.vocab['<|endoftext|>']).toBe(50256);
    expect(tokenizer.model.vocab).toHaveProperty(['Ġthe'], 262);
    // GPT-2's merges.txt starts with these, and has 50000 entries.
    expect(tokenizer.model.merges.slice(0, 4)).toEqual(['Ġ t', 'Ġ a', 'h e', 'i n']);
    expect(tokenizer.model.merges).toHaveLength(50000);
  });

  it('stores every HF parameter once, the tied LM head included', async () => {
    const model = await buildTinyModelInTemp();
    cleanups.push(model.remove);
    const names = [...model.weights.keys()];
    expect(names).toContain('transformer.h.1.attn.c_attn.weight');
    expect(model.weights.get('transformer.h.0.attn.c_attn.weight')?.shape).toEqual([64, 192]);
    expect(names.some((n) => n.startsWith('lm_head'))).toBe(false);
    const floats = [...model.weights.values()].reduce((sum, w) => sum + w.data.length, 0);
    const onnxSize = (await readFile(model.onnxPath)).length;
    expect(onnxSize).toBeGreaterThan(floats * 4);
    expect(onnxSize).toBeLessThan(floats * 4 + 200_000); // wte (12.9 MB) is not stored twice
  });
});
