// npm run model:tiny -- [outDir] [--seed N]: writes the seeded tiny GPT-2 model folder and prints
// its weights sha256 (same seed, same bytes, same hash on every machine).
import { resolve } from 'node:path';
import { buildTinyModel, DEFAULT_TINY_MODEL_DIR, DEFAULT_TINY_SEED } from '../src/runtime/index.js';

const args = process.argv.slice(2);
const seedAt = args.indexOf('--seed');
const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : DEFAULT_TINY_SEED;
const positional = args.filter((_, i) => seedAt < 0 || (i !== seedAt && i !== seedAt + 1));
if (!Number.isSafeInteger(seed) || seed < 0) {
  console.error('--seed must be a non-negative integer');
  process.exit(2);
}
const outDir = resolve(positional[0] ?? DEFAULT_TINY_MODEL_DIR);
const started = performance.now();
const model = await buildTinyModel(outDir, { seed });
console.log(
  JSON.stringify(
    { dir: model.dir, onnx: model.onnxPath, seed, weightsSha256: model.weightsSha256, ms: Math.round(performance.now() - started) },
    null,
    2,
  ),
);
