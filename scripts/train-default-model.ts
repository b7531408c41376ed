// npm run model:train-default -- [--out DIR] [--threads N] [--resume-phase1 DIR]: trains the
// default GPT-2 from scratch with the project's own trainer, seeded and reproducible: phase 1 on
// the State of the Union addresses 1790-2018, phase 2 on the modern ones (1946-2018) only, then
// scores held-out modern prose (the 2019-2021 addresses and plain English written for the check),
// prints two greedy continuations and writes the model folder. Phase 1 is deterministic, so
// --resume-phase1 may start from a folder that phase 1 wrote (checked by its provenance) and give
// the same final bytes.
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInferenceEngine } from '../src/runtime/index.js';
import { GPT2_END_OF_TEXT, GPT2_VOCAB_SIZE, type Gpt2Config, toHfConfigJson } from '../src/runtime/gpt2-config.js';
import { buildGpt2DecoderOnnx } from '../src/runtime/gpt2-graph-builder.js';
import { type Gpt2Weights, initGpt2Weights } from '../src/runtime/gpt2-weights.js';
import {
  buildTrainingSet,
  readModelFolderWeights,
  runTraining,
  sha256Hex,
  type TrainingHyperparameters,
  writeModelFolder,
} from '../src/training/index.js';
import { type Address, CORPUS_PACKAGE, PLAIN_ENGLISH, readSotuCorpus } from './default-model/sotu-corpus.js';

export const DEFAULT_MODEL_CONFIG: Gpt2Config = {
  nLayer: 4,
  nHead: 4,
  nEmbd: 128,
  nPositions: 128,
  vocabSize: GPT2_VOCAB_SIZE,
  layerNormEpsilon: 1e-5,
  bosTokenId: GPT2_END_OF_TEXT,
  eosTokenId: GPT2_END_OF_TEXT,
};
const SEED = 1790;
const HELD_OUT_FROM_YEAR = 2019;
const EVAL_FRACTION = 0.005;
const PHASE1: TrainingHyperparameters = {
  steps: 3000,
  batchSize: 8,
  learningRate: 2e-3,
  seed: SEED,
  weightDecay: 0.01,
  warmupSteps: 100,
  gradClip: 1,
  schedule: 'cosine',
};
/** Phase 2: the modern addresses only, at a lower rate (fresh AdamW moments). */
const PHASE2_FROM_YEAR = 1946;
const PHASE2: TrainingHyperparameters = {
  steps: 600,
  batchSize: 8,
  learningRate: 6e-4,
  seed: SEED + 1,
  weightDecay: 0.01,
  warmupSteps: 30,
  gradClip: 1,
  schedule: 'cosine',
};
const PROMPTS = ['The weather today is', 'In the morning, the children'];

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

/** GPT-2's init: seeded uniform matrices with std 0.02, layer-norm gains 1 and biases 0. */
function initialWeights(config: Gpt2Config, seed: number): Gpt2Weights {
  const weights = initGpt2Weights(config, seed);
  for (const [name, tensor] of weights) {
    if (name.endsWith('.bias')) tensor.data.fill(0);
    else if (/\.ln_[12f]\.weight$/.test(name)) tensor.data.fill(1);
  }
  return weights;
}

const outDir = resolve(option('out', 'models/default'));
const resumeFrom = process.argv.includes('--resume-phase1') ? resolve(option('resume-phase1', '')) : undefined;
const threads = Number(option('threads', '2'));
const config = DEFAULT_MODEL_CONFIG;
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 60_000).toFixed(1)} min`;

const corpus = await readSotuCorpus();
const trainAddresses = corpus.addresses.filter((a) => a.year < HELD_OUT_FROM_YEAR);
const heldOut = corpus.addresses.filter((a) => a.year >= HELD_OUT_FROM_YEAR);
console.log(`corpus ${CORPUS_PACKAGE}@${corpus.version}; held out: ${heldOut.map((a) => a.file).join(', ')}`);

async function trainPhase(name: string, weights: Gpt2Weights, addresses: Address[], hyperparameters: TrainingHyperparameters) {
  const data = buildTrainingSet(
    addresses.map((a) => a.text),
    { contextLength: config.nPositions, evalFraction: EVAL_FRACTION, seed: hyperparameters.seed },
  );
  const years = `${addresses[0].year}-${addresses.at(-1)?.year}`;
  console.log(`${name}: ${addresses.length} addresses ${years}, ${data.tokens} tokens, ${data.train.length} train / ${data.evalSet.length} eval windows`);
  let window = { loss: 0, tokensPerSecond: 0, n: 0 };
  const result = await runTraining(
    { config, weights, train: data.train, evalSet: data.evalSet, hyperparameters, threads },
    {
      onStep: (p) => {
        window = { loss: window.loss + p.loss, tokensPerSecond: window.tokensPerSecond + p.tokensPerSecond, n: window.n + 1 };
        if (p.step % 50 === 0 || p.step === hyperparameters.steps) {
          console.log(
            `${name} step ${p.step}/${hyperparameters.steps} loss ${(window.loss / window.n).toFixed(3)} lr ${p.learningRate.toExponential(2)} ` +
              `grad-norm ${p.gradNorm.toFixed(2)} ${(window.tokensPerSecond / window.n).toFixed(0)} tokens/s ${elapsed()}`,
          );
          window = { loss: 0, tokensPerSecond: 0, n: 0 };
        }
      },
    },
  );
  console.log(`${name} eval loss (held-out windows of ${years}) ${result.evalLossBefore?.toFixed(3)} -> ${result.evalLossAfter?.toFixed(3)}`);
  const provenance = {
    addresses: addresses.length,
    years,
    tokens: data.tokens,
    hyperparameters: { ...hyperparameters, adam_betas: [0.9, 0.999], adam_epsilon: 1e-8, eval_fraction: EVAL_FRACTION, context_length: config.nPositions },
    steps: result.stepsRun,
    tokens_seen: result.tokensSeen,
    eval_loss_before: result.evalLossBefore,
    eval_loss_after: result.evalLossAfter,
    weights_sha256: sha256Hex(buildGpt2DecoderOnnx(config, result.weights)),
  };
  return { weights: result.weights, provenance };
}

/** Phase 1's weights from a folder it wrote, refused unless its provenance names phase 1's exact recipe. */
async function resumePhase1(dir: string): Promise<{ weights: Gpt2Weights; provenance: Record<string, unknown> }> {
  const json = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { posthuman_training?: Record<string, unknown> };
  const recorded = json.posthuman_training?.hyperparameters as Record<string, unknown> | undefined;
  const same = recorded && Object.entries(PHASE1).every(([key, value]) => recorded[key] === value) && json.posthuman_training?.steps === PHASE1.steps;
  if (!same) throw new Error(`${dir} was not written by phase 1 of this recipe (${JSON.stringify(PHASE1)})`);
  const read = await readModelFolderWeights(dir);
  console.log(`phase 1: resumed from ${dir} (weights sha256 ${read.weightsSha256})`);
  const { held_out: _heldOut, greedy_samples: _samples, ...provenance } = json.posthuman_training as Record<string, unknown>;
  return { weights: read.weights, provenance: { ...provenance, weights_sha256: read.weightsSha256 } };
}

const phase1 = resumeFrom ? await resumePhase1(resumeFrom) : await trainPhase('phase 1', initialWeights(config, SEED), trainAddresses, PHASE1);
const phase2 = await trainPhase('phase 2', phase1.weights, trainAddresses.filter((a) => a.year >= PHASE2_FROM_YEAR), PHASE2);

const provenance = {
  trainer: 'posthuman-gateway src/training (one ONNX training graph on onnxruntime-node)',
  corpus: {
    package: CORPUS_PACKAGE,
    version: corpus.version,
    package_license: corpus.license,
    text_license: 'US government works (public domain)',
    held_out_years: `${HELD_OUT_FROM_YEAR}-${heldOut.at(-1)?.year}`,
    cleaning: 'audience notes such as "(Applause.)" removed',
  },
  seed: SEED,
  init: 'initGpt2Weights(config, seed) with layer-norm gains 1 and biases 0',
  // Phase 1's record as it wrote it (a resumed run keeps the original), then phase 2's.
  phases: [phase1.provenance, phase2.provenance],
  steps: PHASE1.steps + PHASE2.steps,
};
const folder = await writeModelFolder(outDir, config, phase2.weights, { posthuman_training: provenance });
console.log(`wrote ${folder.onnxPath} (${(folder.onnxBytes / 2 ** 20).toFixed(1)} MiB) sha256 ${folder.weightsSha256} after ${elapsed()}`);

const engine = await createInferenceEngine({ modelDir: outDir, expectedSha256: folder.weightsSha256, threads });
try {
  const modern = await engine.evaluate({ texts: heldOut.map((a) => a.text) });
  const plain = await engine.evaluate({ texts: PLAIN_ENGLISH });
  const samples: Array<{ prompt: string; continuation: string }> = [];
  for (const prompt of PROMPTS) {
    const out = await engine.generate({ input: prompt, maxNewTokens: 40, temperature: 0 });
    samples.push({ prompt, continuation: out.output });
  }
  const heldOutScores = {
    [`sotu_${HELD_OUT_FROM_YEAR}_${heldOut.at(-1)?.year}`]: { loss: modern.loss, perplexity: modern.perplexity, tokens: modern.tokens },
    plain_english: { loss: plain.loss, perplexity: plain.perplexity, tokens: plain.tokens },
  };
  // config.json is not hashed (the weights sha256 is model.onnx's), so the scores can join the provenance.
  const configJson = toHfConfigJson(config, { posthuman_training: { ...provenance, held_out: heldOutScores, greedy_samples: samples } });
  await writeFile(join(outDir, 'config.json'), `${JSON.stringify(configJson, null, 2)}\n`);
  console.log(`held-out perplexity: SOTU ${HELD_OUT_FROM_YEAR}-${heldOut.at(-1)?.year} ${modern.perplexity.toFixed(1)} (${modern.tokens} tokens), plain English ${plain.perplexity.toFixed(1)} (${plain.tokens} tokens)`);
  for (const s of samples) console.log(`greedy: ${JSON.stringify(s.prompt + s.continuation)}`);
  console.log(JSON.stringify({ dir: outDir, weightsSha256: folder.weightsSha256, steps: provenance.steps, minutes: Number(elapsed().split(' ')[0]) }));
} finally {
  await engine.close();
}
