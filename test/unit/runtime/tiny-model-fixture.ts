// Shared helpers for the runtime tests: a tiny model built into a temp dir, and direct
// (main-thread) onnxruntime calls used as the no-cache oracle.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type BuildTinyModelOptions, type BuiltTinyModel, buildTinyModel } from '../../../src/runtime/tiny-model-builder.js';

export async function makeTempDir(prefix = 'runtime-test-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function buildTinyModelInTemp(options: BuildTinyModelOptions = {}): Promise<BuiltTinyModel & { remove: () => Promise<void> }> {
  const temp = await makeTempDir();
  const model = await buildTinyModel(join(temp.dir, 'tiny-gpt2'), options);
  return { ...model, remove: temp.remove };
}

export function openSession(onnxPathOrBytes: string | Uint8Array, threads = 1): Promise<ort.InferenceSession> {
  const options = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  return typeof onnxPathOrBytes === 'string'
    ? ort.InferenceSession.create(onnxPathOrBytes, options)
    : ort.InferenceSession.create(onnxPathOrBytes, options);
}

const int64 = (values: number[], dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** Feeds for rows of token ids with no past (left-padded with `pad`), as the Optimum decoder takes them. */
export function noPastFeeds(rows: number[][], nLayer = 2, heads = 4, headDim = 16, pad = 50256): Record<string, ort.Tensor> {
  const length = Math.max(...rows.map((r) => r.length));
  const ids: number[] = [];
  const mask: number[] = [];
  const positions: number[] = [];
  for (const row of rows) {
    const padding = length - row.length;
    for (let t = 0; t < length; t++) {
      ids.push(t < padding ? pad : row[t - padding]);
      mask.push(t < padding ? 0 : 1);
      positions.push(t < padding ? 0 : t - padding);
    }
  }
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64(ids, [rows.length, length]),
    attention_mask: int64(mask, [rows.length, length]),
    position_ids: int64(positions, [rows.length, length]),
  };
  for (let i = 0; i < nLayer; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [rows.length, heads, 0, headDim]);
    }
  }
  return feeds;
}

/** Logits [positions][vocab] of one unpadded sequence, recomputed from scratch (no KV cache). */
export async function fullLogits(session: ort.InferenceSession, ids: number[], vocab = 50257): Promise<Float32Array[]> {
  const out = await session.run(noPastFeeds([ids]));
  const data = out.logits.data as Float32Array;
  return ids.map((_, t) => data.slice(t * vocab, (t + 1) * vocab));
}
