// The worker's part of a fine-tune: read the parent's verified weights and the job's datasets (each
// checked against its sha256), train with the project's trainer, write the new model folder, store
// it by hash, and describe the derived model the settlement registers. Nothing here touches money.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDatasetDocuments } from '../datasets/dataset-service.js';
import type { FinetuneRequest } from '../jobs/job-requests.js';
import type { JobRow } from '../jobs/job-repository.js';
import type { ModelRow, NewModel } from '../models/model-repository.js';
import { modelRowFor } from '../models/model-registration.js';
import { checkModelFolder, placeModelFolder } from '../models/model-store.js';
import { inspectModelFolder } from '../runtime/index.js';
import { readVerifiedWeights } from '../runtime/weights-file.js';
import { buildTrainingSet, readGpt2WeightsFromOnnx, runTraining, writeModelFolder } from '../training/index.js';

/** Progress of a running fine-tune, as the job shows it. */
export interface FinetuneProgress {
  step: number;
  steps: number;
  loss: number;
  tokens_per_second: number;
}

export interface FinetuneOutcome {
  status: 'succeeded' | 'cancelled';
  result: Record<string, unknown>;
  stepsRun: number;
  /** Tokens trained on: the tokens of every batch run (at most steps × batch size × context; padding excluded). */
  trainedTokens: number;
  computeMs: number;
  /** The derived model's registry row (succeeded only); inserted with the settlement. */
  newModel?: NewModel;
}

/** A failure of the job's own inputs: the job fails at once with this code (nothing charged). */
export class FinetuneInputError extends Error {
  constructor(
    readonly code: 'model_not_trainable' | 'dataset_unavailable' | 'dataset_too_small',
    message: string,
  ) {
    super(message);
    this.name = 'FinetuneInputError';
  }
}

export interface FinetuneWorkerDeps {
  dataDir: string;
  threads: number;
}

async function loadDocuments(dataDir: string, request: FinetuneRequest): Promise<string[]> {
  const documents: string[] = [];
  for (const [i, d] of request.datasets.entries()) {
    if (d.text !== undefined) {
      documents.push(d.text);
      continue;
    }
    try {
      documents.push(...(await readDatasetDocuments(dataDir, { sha256: d.sha256, format: d.format })));
    } catch (err) {
      throw new FinetuneInputError('dataset_unavailable', `dataset ${i} (${d.id}) could not be read: ${(err as Error).message}`);
    }
  }
  return documents;
}

export async function runFinetune(
  deps: FinetuneWorkerDeps,
  job: JobRow,
  parent: ModelRow,
  options: { signal: AbortSignal; onProgress(p: FinetuneProgress): void },
): Promise<FinetuneOutcome> {
  const request = job.request as unknown as FinetuneRequest;
  const h = request.hyperparameters;
  const folder = await inspectModelFolder(parent.storagePath);
  // The bytes trained from are the bytes whose hash the job pinned.
  const { bytes } = await readVerifiedWeights(folder.onnxPath, job.weightsSha256);
  let weights: ReturnType<typeof readGpt2WeightsFromOnnx>;
  try {
    weights = readGpt2WeightsFromOnnx(bytes, folder.config);
  } catch (err) {
    throw new FinetuneInputError('model_not_trainable', (err as Error).message);
  }
  const documents = await loadDocuments(deps.dataDir, request);
  const data = buildTrainingSet(documents, { contextLength: folder.config.nPositions, evalFraction: h.eval_fraction, seed: h.seed });
  if (data.train.length === 0) throw new FinetuneInputError('dataset_too_small', 'the training data holds fewer than 2 tokens');

  const started = performance.now();
  const trained = await runTraining(
    {
      config: folder.config,
      weights,
      train: data.train,
      evalSet: data.evalSet,
      hyperparameters: { steps: h.steps, batchSize: h.batch_size, learningRate: h.learning_rate, seed: h.seed },
      threads: deps.threads,
    },
    {
      signal: options.signal,
      onStep: (p) => options.onProgress({ step: p.step, steps: h.steps, loss: p.loss, tokens_per_second: Math.round(p.tokensPerSecond) }),
    },
  );
  const computeMs = Math.round(performance.now() - started);
  const trainedTokens = trained.tokensSeen;
  const common = {
    parent: { id: parent.id, weights_sha256: job.weightsSha256 },
    datasets: request.datasets.map((d) => ({ id: d.id, sha256: d.sha256 })),
    hyperparameters: h,
    steps_run: trained.stepsRun,
    tokens_trained: trainedTokens,
    losses: trained.losses,
    loss_before: trained.evalLossBefore,
  };
  if (trained.cancelled) {
    // Stopped between steps: no model is made; the steps run are charged.
    return { status: 'cancelled', result: { training: { ...common, loss_after: null, new_model: null } }, stepsRun: trained.stepsRun, trainedTokens, computeMs };
  }

  const scratch = await mkdtemp(join(tmpdir(), 'posthuman-finetune-'));
  try {
    await writeModelFolder(scratch, folder.config, trained.weights, {
      posthuman_parent: { id: parent.id, weights_sha256: job.weightsSha256 },
      posthuman_training: { datasets: common.datasets, hyperparameters: h, steps_run: trained.stepsRun },
    });
    const checked = await checkModelFolder(scratch);
    const storagePath = await placeModelFolder(checked, deps.dataDir);
    const newModel: NewModel = {
      ...modelRowFor(checked, storagePath, {
        id: request.name,
        name: request.name,
        pricePerJob: BigInt(request.new_model.price_per_job),
        pricePer1kTokens: BigInt(request.new_model.price_per_1k_tokens),
        ownerAccountId: job.accountId,
        taskKinds: ['infer', 'evaluate'],
      }),
      parentModelId: parent.id,
      royaltyBps: request.new_model.royalty_bps,
    };
    const result = {
      training: { ...common, loss_after: trained.evalLossAfter, new_model: { id: request.name, weights_sha256: checked.model.weightsSha256 } },
    };
    return { status: 'succeeded', result, stepsRun: trained.stepsRun, trainedTokens, computeMs, newModel };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
