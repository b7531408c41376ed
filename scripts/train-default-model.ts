// npm run model:train-default -- [--out DIR] [--steps N] [--threads N]: trains the default GPT-2
// from scratch on the State of the Union addresses 1790-2018 with the project's own trainer,
// seeded and reproducible, then scores held-out modern prose (the 2019-2021 addresses and plain
// English written for the check), prints two greedy continuations and writes the model folder.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInferenceEngine } from '../src/runtime/index.js';
import { GPT2_END_OF_TEXT, GPT2_VOCAB_SIZE, type Gpt2Config, toHfConfigJson } from '../src/runtime/gpt2-config.js';
import { type Gpt2Weights, initGpt2Weights } from '../src/runtime/gpt2-weights.js';
import { buildTrainingSet, runTraining, type TrainingHyperparameters, writeModelFolder } from '../src/training/index.js';
import { CORPUS_PACKAGE, PLAIN_ENGLISH, readSotuCorpus } from './default-model/sotu-corpus.js';

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
const HYPERPARAMETERS: TrainingHyperparameters = {
  steps: 3000,
  batchSize: 8,
  learningRate: 2e-3,
  seed: SEED,
  weightDecay: 0.01,
  warmupSteps: 100,
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
const hyperparameters = { ...HYPERPARAMETERS, steps: Number(option('steps', String(HYPERPARAMETERS.steps))) };
const threads = Number(option('threads', '2'));
const config = DEFAULT_MODEL_CONFIG;
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 60_000).toFixed(1)} min`;

const corpus = await readSotuCorpus();
const trainAddresses = corpus.addresses.filter((a) => a.year < HELD_OUT_FROM_YEAR);
const heldOut = corpus.addresses.filter((a) => a.year >= HELD_OUT_FROM_YEAR);
const data = buildTrainingSet(
  trainAddresses.map((a) => a.text),
  { contextLength: config.nPositions, evalFraction: EVAL_FRACTION, seed: SEED },
);
console.log(
  `corpus ${CORPUS_PACKAGE}@${corpus.version}: ${trainAddresses.length} addresses ${trainAddresses[0].year}-${trainAddresses.at(-1)?.year}, ` +
    `${data.tokens} tokens, ${data.train.length} train / ${data.evalSet.length} eval windows; held out: ${heldOut.map((a) => a.file).join(', ')}`,
);

let window = { loss: 0, tokensPerSecond: 0, n: 0 };
const result = await runTraining(
  { config, weights: initialWeights(config, SEED), train: data.train, evalSet: data.evalSet, hyperparameters, threads },
  {
    onStep: (p) => {
      window = { loss: window.loss + p.loss, tokensPerSecond: window.tokensPerSecond + p.tokensPerSecond, n: window.n + 1 };
      if (p.step % 50 === 0 || p.step === hyperparameters.steps) {
        console.log(
          `step ${p.step}/${hyperparameters.steps} loss ${(window.loss / window.n).toFixed(3)} lr ${p.learningRate.toExponential(2)} ` +
            `grad-norm ${p.gradNorm.toFixed(2)} ${(window.tokensPerSecond / window.n).toFixed(0)} tokens/s ${elapsed()}`,
        );
        window = { loss: 0, tokensPerSecond: 0, n: 0 };
      }
    },
  },
);
console.log(`eval loss (held-out 1790-2018 windows) ${result.evalLossBefore?.toFixed(3)} -> ${result.evalLossAfter?.toFixed(3)}`);

const provenance = {
  trainer: 'posthuman-gateway src/training (one ONNX training graph on onnxruntime-node)',
  corpus: {
    package: CORPUS_PACKAGE,
    version: corpus.version,
    package_license: corpus.license,
    text_license: 'US government works (public domain)',
    addresses: trainAddresses.length,
    years: `${trainAddresses[0].year}-${trainAddresses.at(-1)?.year}`,
    held_out_years: `${HELD_OUT_FROM_YEAR}-${heldOut.at(-1)?.year}`,
    cleaning: 'audience notes such as "(Applause.)" removed',
    tokens: data.tokens,
  },
  seed: SEED,
  init: 'initGpt2Weights(config, seed) with layer-norm gains 1 and biases 0',
  steps: result.stepsRun,
  hyperparameters: { ...hyperparameters, adam_betas: [0.9, 0.999], adam_epsilon: 1e-8, eval_fraction: EVAL_FRACTION, context_length: config.nPositions },
  tokens_seen: result.tokensSeen,
  eval_loss_before: result.evalLossBefore,
  eval_loss_after: result.evalLossAfter,
};
const folder = await writeModelFolder(outDir, config, result.weights, { posthuman_training: provenance });
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
  console.log(JSON.stringify({ dir: outDir, weightsSha256: folder.weightsSha256, steps: result.stepsRun, minutes: Number(elapsed().split(' ')[0]) }));
} finally {
  await engine.close();
}
