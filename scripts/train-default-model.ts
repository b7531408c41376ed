// npm run model:train-default -- [--out DIR] [--threads N] [--resume-phase1 DIR | --resume-phase2 DIR]
//   [--checkpoints DIR]: trains the default GPT-2 from scratch with the project's own trainer, seeded
// and reproducible: phase 1 on the State of the Union addresses 1790-2018, phase 2 on the modern ones
// (1946-2018) only, phase 3 more epochs of those at a decaying rate, then scores held-out modern
// prose (the 2019-2021 addresses and plain English written for the check), prints two greedy
// continuations and writes the model folder. Phases are deterministic, so --resume-phase1/2 may
// start from a folder that phase 1 (or phase 2) wrote, checked by its provenance, and give the same
// final bytes. Phase 3's rate does not depend on its length: --checkpoints DIR writes, every
// PHASE3_CHECKPOINT_EVERY steps, the complete folder a run with that many phase-3 steps would write.
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
  runTrainingLoop,
  type TrainingResult,
  type TrainingSnapshot,
  validateTrainingRequest,
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
/**
 * Phase 3: more epochs of the spoken addresses since 1982 (the style of the held-out years; the long
 * written messages of 1946 and 1981 left out), phase 2's rate with fresh AdamW moments, decaying as
 * 1/sqrt(step) after a short warm-up: the rate does not depend on `steps`, so a checkpoint at step k
 * is exactly a k-step phase 3. The held-out perplexity, followed every PHASE3_CHECKPOINT_EVERY steps,
 * chose `steps`.
 */
const PHASE3_FROM_YEAR = 1982;
const PHASE3: TrainingHyperparameters = { ...PHASE2, steps: 200, seed: SEED + 2, warmupSteps: 50, schedule: 'inverse-sqrt' };
const PHASE3_CHECKPOINT_EVERY = 200;
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
const resumePhase1From = process.argv.includes('--resume-phase1') ? resolve(option('resume-phase1', '')) : undefined;
const resumePhase2From = process.argv.includes('--resume-phase2') ? resolve(option('resume-phase2', '')) : undefined;
const checkpointsDir = process.argv.includes('--checkpoints') ? resolve(option('checkpoints', '')) : undefined;
const threads = Number(option('threads', '2'));
const config = DEFAULT_MODEL_CONFIG;
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 60_000).toFixed(1)} min`;

const corpus = await readSotuCorpus();
const trainAddresses = corpus.addresses.filter((a) => a.year < HELD_OUT_FROM_YEAR);
const heldOut = corpus.addresses.filter((a) => a.year >= HELD_OUT_FROM_YEAR);
console.log(`corpus ${CORPUS_PACKAGE}@${corpus.version}; held out: ${heldOut.map((a) => a.file).join(', ')}`);

type Phase = { weights: Gpt2Weights; provenance: Record<string, unknown> };

function phaseData(addresses: Address[], hyperparameters: TrainingHyperparameters) {
  const data = buildTrainingSet(
    addresses.map((a) => a.text),
    { contextLength: config.nPositions, evalFraction: EVAL_FRACTION, seed: hyperparameters.seed },
  );
  const years = `${addresses[0].year}-${addresses.at(-1)?.year}`;
  return { ...data, years, addresses: addresses.length };
}

function phaseRecord(data: ReturnType<typeof phaseData>, hyperparameters: TrainingHyperparameters, result: TrainingSnapshot): Phase {
  const provenance = {
    addresses: data.addresses,
    years: data.years,
    tokens: data.tokens,
    hyperparameters: { ...hyperparameters, steps: result.stepsRun, adam_betas: [0.9, 0.999], adam_epsilon: 1e-8, eval_fraction: EVAL_FRACTION, context_length: config.nPositions },
    steps: result.stepsRun,
    tokens_seen: result.tokensSeen,
    eval_loss_before: result.evalLossBefore,
    eval_loss_after: result.evalLossAfter,
    weights_sha256: sha256Hex(buildGpt2DecoderOnnx(config, result.weights)),
  };
  return { weights: result.weights, provenance };
}

async function trainPhase(
  name: string,
  weights: Gpt2Weights,
  addresses: Address[],
  hyperparameters: TrainingHyperparameters,
  checkpoint?: { every: number; onCheckpoint: (phase: Phase) => Promise<void> },
): Promise<Phase> {
  const data = phaseData(addresses, hyperparameters);
  console.log(`${name}: ${data.addresses} addresses ${data.years}, ${data.tokens} tokens, ${data.train.length} train / ${data.evalSet.length} eval windows`);
  let window = { loss: 0, tokensPerSecond: 0, n: 0 };
  const onStep = (p: { step: number; loss: number; tokensPerSecond: number; learningRate: number; gradNorm: number }): void => {
    window = { loss: window.loss + p.loss, tokensPerSecond: window.tokensPerSecond + p.tokensPerSecond, n: window.n + 1 };
    if (p.step % 50 === 0 || p.step === hyperparameters.steps) {
      console.log(
        `${name} step ${p.step}/${hyperparameters.steps} loss ${(window.loss / window.n).toFixed(3)} lr ${p.learningRate.toExponential(2)} ` +
          `grad-norm ${p.gradNorm.toFixed(2)} ${(window.tokensPerSecond / window.n).toFixed(0)} tokens/s ${elapsed()}`,
      );
      window = { loss: 0, tokensPerSecond: 0, n: 0 };
    }
  };
  const request = { config, weights, train: data.train, evalSet: data.evalSet, hyperparameters, threads };
  let result: TrainingResult;
  if (checkpoint) {
    // In this thread, so that the loop can hand its weights to the checkpoint (same loop, same bytes).
    validateTrainingRequest(request);
    result = await runTrainingLoop(request, {
      onStep,
      checkpoint: { every: checkpoint.every, onCheckpoint: (snapshot) => checkpoint.onCheckpoint(phaseRecord(data, hyperparameters, snapshot)) },
    });
  } else result = await runTraining(request, { onStep });
  console.log(`${name} eval loss (held-out windows of ${data.years}) ${result.evalLossBefore?.toFixed(3)} -> ${result.evalLossAfter?.toFixed(3)}`);
  return phaseRecord(data, hyperparameters, result);
}

type Recorded = Record<string, unknown>;
const sameRecipe = (recorded: Recorded | undefined, hp: TrainingHyperparameters): boolean =>
  recorded !== undefined && Object.entries(hp).every(([key, value]) => (recorded.hyperparameters as Recorded | undefined)?.[key] === value) && recorded.steps === hp.steps;

async function readRecorded(dir: string): Promise<Recorded> {
  const json = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { posthuman_training?: Recorded };
  return json.posthuman_training ?? {};
}

/** Phase 1's weights from a folder it wrote, refused unless its provenance names phase 1's exact recipe. */
async function resumePhase1(dir: string): Promise<Phase> {
  const recorded = await readRecorded(dir);
  if (!sameRecipe(recorded, PHASE1)) throw new Error(`${dir} was not written by phase 1 of this recipe (${JSON.stringify(PHASE1)})`);
  const read = await readModelFolderWeights(dir);
  console.log(`phase 1: resumed from ${dir} (weights sha256 ${read.weightsSha256})`);
  const { held_out: _heldOut, greedy_samples: _samples, ...provenance } = recorded;
  return { weights: read.weights, provenance: { ...provenance, weights_sha256: read.weightsSha256 } };
}

/**
 * Phase 2's weights from a folder that phases 1 and 2 wrote (models/default as committed before
 * phase 3), refused unless both recorded phases are this recipe's and its weights are phase 2's.
 */
async function resumePhase2(dir: string): Promise<[Phase, Phase]> {
  const phases = (await readRecorded(dir)).phases as Recorded[] | undefined;
  if (phases?.length !== 2 || !sameRecipe(phases[0], PHASE1) || !sameRecipe(phases[1], PHASE2)) {
    throw new Error(`${dir} was not written by phases 1 and 2 of this recipe (${JSON.stringify([PHASE1, PHASE2])})`);
  }
  const read = await readModelFolderWeights(dir);
  if (read.weightsSha256 !== phases[1].weights_sha256) throw new Error(`${dir}: weights sha256 ${read.weightsSha256} is not phase 2's recorded ${phases[1].weights_sha256}`);
  console.log(`phases 1 and 2: resumed from ${dir} (weights sha256 ${read.weightsSha256})`);
  return [
    { weights: new Map(), provenance: phases[0] },
    { weights: read.weights, provenance: phases[1] },
  ];
}

const provenanceOf = (phases: Phase[]) => ({
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
  // Phase 1's record as it wrote it (a resumed run keeps the original), then the later phases'.
  phases: phases.map((p) => p.provenance),
  steps: phases.reduce((sum, p) => sum + (p.provenance.steps as number), 0),
});

/** Writes the model folder of the last phase, scores it on the held-out texts and records everything in config.json. */
async function writeDefaultModel(dir: string, phases: Phase[]) {
  const provenance = provenanceOf(phases);
  const folder = await writeModelFolder(dir, config, (phases.at(-1) as Phase).weights, { posthuman_training: provenance });
  console.log(`wrote ${folder.onnxPath} (${(folder.onnxBytes / 2 ** 20).toFixed(1)} MiB) sha256 ${folder.weightsSha256} after ${elapsed()}`);
  const engine = await createInferenceEngine({ modelDir: dir, expectedSha256: folder.weightsSha256, threads });
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
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(configJson, null, 2)}\n`);
    console.log(
      `held-out perplexity (${provenance.steps} steps): SOTU ${HELD_OUT_FROM_YEAR}-${heldOut.at(-1)?.year} ${modern.perplexity.toFixed(1)} (${modern.tokens} tokens), ` +
        `plain English ${plain.perplexity.toFixed(1)} (${plain.tokens} tokens)`,
    );
    for (const s of samples) console.log(`greedy: ${JSON.stringify(s.prompt + s.continuation)}`);
    return { weightsSha256: folder.weightsSha256, steps: provenance.steps };
  } finally {
    await engine.close();
  }
}

const modern = (from: number) => trainAddresses.filter((a) => a.year >= from);
const [phase1, phase2] = resumePhase2From
  ? await resumePhase2(resumePhase2From)
  : await (async (): Promise<[Phase, Phase]> => {
      const first = resumePhase1From ? await resumePhase1(resumePhase1From) : await trainPhase('phase 1', initialWeights(config, SEED), trainAddresses, PHASE1);
      return [first, await trainPhase('phase 2', first.weights, modern(PHASE2_FROM_YEAR), PHASE2)];
    })();
const phase3 = await trainPhase(
  'phase 3',
  phase2.weights,
  modern(PHASE3_FROM_YEAR),
  PHASE3,
  checkpointsDir
    ? { every: PHASE3_CHECKPOINT_EVERY, onCheckpoint: (p) => writeDefaultModel(join(checkpointsDir, `phase3-step-${p.provenance.steps}`), [phase1, phase2, p]).then(() => {}) }
    : undefined,
);
const written = await writeDefaultModel(outDir, [phase1, phase2, phase3]);
console.log(JSON.stringify({ dir: outDir, ...written, minutes: Number(elapsed().split(' ')[0]) }));
