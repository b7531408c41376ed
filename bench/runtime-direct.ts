// Greedy decoding throughput of the tiny model through the public engine API (session thread,
// KV cache, dynamic batching). Prints numbers only; never fails on a time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyModel, createInferenceEngine } from '../src/runtime/index.js';

const NEW_TOKENS = 100;
const TRIALS = 3;
const PROMPTS = [
  'The quick brown fox',
  'Once upon a time',
  'In the beginning',
  'Hello, my name is',
  'The weather today is',
  'Transformers are',
  'A long time ago in a galaxy',
  'def main():',
];

const dir = await mkdtemp(join(tmpdir(), 'runtime-bench-'));
const rows: Array<{ threads: number; batch: number; tokensPerSecond: number[] }> = [];
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];
try {
  await buildTinyModel(dir);
  for (const threads of [2, 1]) {
    const engine = await createInferenceEngine({ modelDir: dir, threads, maxBatch: 8, maxWaitMs: 5 });
    await engine.generate({ input: 'warm up', maxNewTokens: 20 });
    await Promise.all(PROMPTS.map((input) => engine.generate({ input, maxNewTokens: 20 })));
    for (const batch of [1, 8]) {
      const tokensPerSecond: number[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        const started = performance.now();
        const results = await Promise.all(PROMPTS.slice(0, batch).map((input) => engine.generate({ input, maxNewTokens: NEW_TOKENS })));
        const tokens = results.reduce((sum, r) => sum + r.outputTokens, 0);
        tokensPerSecond.push(tokens / ((performance.now() - started) / 1000));
      }
      rows.push({ threads, batch, tokensPerSecond });
    }
    await engine.close();
  }
  console.log(`tiny GPT-2 (2 layers, 64 wide, vocab 50257), greedy, ${NEW_TOKENS} new tokens per request, ${TRIALS} trials`);
  console.table(
    rows.map((r) => ({
      threads: r.threads,
      batch: r.batch,
      'tokens/s (median)': Math.round(median(r.tokensPerSecond)),
      'tokens/s (best)': Math.round(Math.max(...r.tokensPerSecond)),
    })),
  );
} catch (error) {
  console.error('bench failed to run:', error);
} finally {
  await rm(dir, { recursive: true, force: true });
}
