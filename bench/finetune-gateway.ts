// Fine-tuning through the gateway vs the trainer called directly, same model, data, batch and steps:
// what the job path (hold, queue, dataset hashing, storing and registering the new model, receipt)
// adds to a training run. Prints numbers; never fails on a time.
//   npx tsx bench/finetune-gateway.ts [steps=20] [batch=8]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyModel } from '../src/runtime/index.js';
import { buildTrainingSet, runTraining } from '../src/training/index.js';
import { scratchDatabase, startBenchGateway } from './bench-setup.js';

const steps = Number(process.argv[2] ?? 20);
const batch = Number(process.argv[3] ?? 8);
const THREADS = 2;
const TEXT =
  'The committee met on Tuesday to review the budget for the coming year. Members agreed that the roads and the ' +
  'schools need more money, and that the new library should open in the spring. ';
const corpus = TEXT.repeat(400);

const workDir = await mkdtemp(join(tmpdir(), 'posthuman-bench-ft-'));
const model = await buildTinyModel(join(workDir, 'model'));
const hyper = { steps, batch_size: batch, learning_rate: 0.001, seed: 3, eval_fraction: 0.1 };

// Direct: the trainer on the same data split the job makes.
const data = buildTrainingSet([corpus], { contextLength: model.config.nPositions, evalFraction: hyper.eval_fraction, seed: hyper.seed });
const directStart = performance.now();
const direct = await runTraining({
  config: model.config,
  weights: model.weights,
  train: data.train,
  evalSet: data.evalSet,
  hyperparameters: { steps, batchSize: batch, learningRate: hyper.learning_rate, seed: hyper.seed },
  threads: THREADS,
});
const directMs = performance.now() - directStart;

// Through the gateway: POST /v1/finetune, polled until final (in-process worker, chain off).
const db = await scratchDatabase();
const gw = await startBenchGateway({ dbUrl: db.url, workDir, modelDir: model.dir, env: { WORKER_THREADS: String(THREADS) }, redis: true });
let gatewayMs = 0;
let computeMs = 0;
try {
  const headers = gw.headers;
  const started = performance.now();
  const res = await fetch(`${gw.base}/v1/finetune`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: 'tiny-gpt2', name: 'bench-tuned', datasets: [{ text: corpus }], hyperparameters: hyper }),
  });
  const accepted = (await res.json()) as { id: string };
  for (;;) {
    const job = (await (await fetch(`${gw.base}/v1/jobs/${accepted.id}`, { headers })).json()) as {
      status: string;
      compute_ms: number;
      training?: { new_model: { weights_sha256: string } | null };
      error?: unknown;
    };
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      if (job.status !== 'succeeded') throw new Error(`fine-tune ${job.status}: ${JSON.stringify(job.error)}`);
      gatewayMs = performance.now() - started;
      computeMs = job.compute_ms;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
} finally {
  await gw.close();
  await db.drop();
  await rm(workDir, { recursive: true, force: true });
}

const row = (name: string, ms: number) => `| ${name} | ${(ms / 1000).toFixed(2)} s | ${((steps * 1000) / ms).toFixed(2)} | ${(((steps * batch * model.config.nPositions) / ms) * 1000).toFixed(0)} |`;
console.log(`\nFine-tuning the tiny GPT-2: ${steps} steps × batch ${batch} × ${model.config.nPositions} tokens, AdamW, ${THREADS} threads`);
console.log('| path | wall | steps/s | tokens/s (max) |');
console.log('| --- | --- | --- | --- |');
console.log(row('trainer called directly (runTraining)', directMs));
console.log(row('through the gateway (POST /v1/finetune → job final)', gatewayMs));
console.log(row('  of which the job\'s compute_ms (train + eval + store)', computeMs));
console.log(`gateway / direct wall time: ${(gatewayMs / directMs).toFixed(2)} ×; direct steps run ${direct.stepsRun}`);
