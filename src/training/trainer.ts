// runTraining(): validates a training request, runs it in a training thread and streams progress
// back. An AbortSignal stops it at the next step boundary with what was trained so far.
import { Worker } from 'node:worker_threads';
import { deserializeError, EngineUnavailableError, InvalidParameterError } from '../runtime/runtime-errors.js';
import type { TrainingRequest, TrainingResult, TrainingStepProgress } from './training-loop.js';
import type { FromTrainingThread, ToTrainingThread } from './training-thread-protocol.js';

export interface RunTrainingOptions {
  onStep?: (progress: TrainingStepProgress) => void;
  signal?: AbortSignal;
}

function spawnTrainingThread(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './training-thread.ts' : './training-thread.js', import.meta.url);
  if (!fromSources) return new Worker(entry);
  // A worker does not inherit tsx's loader; register it inside the thread before importing the entry.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

const isInt = (value: unknown, min: number): boolean => Number.isInteger(value) && (value as number) >= min;

export function validateTrainingRequest(request: TrainingRequest): void {
  const { config, hyperparameters: hp } = request;
  const fail = (field: string, reason: string): never => {
    throw new InvalidParameterError(field, reason);
  };
  if (!isInt(hp.steps, 0)) fail('steps', 'must be an integer >= 0');
  if (!isInt(hp.batchSize, 1)) fail('batchSize', 'must be an integer >= 1');
  if (!(hp.learningRate > 0 && Number.isFinite(hp.learningRate))) fail('learningRate', 'must be a finite number > 0');
  if (!Number.isSafeInteger(hp.seed) || hp.seed < 0) fail('seed', 'must be a non-negative safe integer');
  if (hp.weightDecay !== undefined && !(hp.weightDecay >= 0 && hp.weightDecay * hp.learningRate < 1)) fail('weightDecay', 'must be >= 0 (and weightDecay * learningRate < 1)');
  if (hp.warmupSteps !== undefined && !isInt(hp.warmupSteps, 0)) fail('warmupSteps', 'must be an integer >= 0');
  if (hp.gradClip !== undefined && !(hp.gradClip > 0)) fail('gradClip', 'must be a number > 0');
  if (request.threads !== undefined && !isInt(request.threads, 1)) fail('threads', 'must be an integer >= 1');
  if (request.train.length === 0 && hp.steps > 0) fail('train', 'needs at least one sequence');
  for (const [field, rows] of [
    ['train', request.train],
    ['evalSet', request.evalSet],
  ] as const) {
    rows.forEach((row, i) => {
      if (row.length < 2 || row.length > config.nPositions) fail(`${field}[${i}]`, `must hold 2..${config.nPositions} tokens, has ${row.length}`);
      for (const id of row) if (!isInt(id, 0) || id >= config.vocabSize) fail(`${field}[${i}]`, `token ${id} is outside the vocabulary`);
    });
  }
}

/**
 * Trains a copy of `request.weights` in a worker thread. Same weights, data, hyperparameters and
 * seed give byte-identical weights, whatever `threads` is. Cancelling returns the weights of the
 * last finished step with `cancelled: true`.
 */
export async function runTraining(request: TrainingRequest, options: RunTrainingOptions = {}): Promise<TrainingResult> {
  validateTrainingRequest(request);
  if (options.signal?.aborted) {
    return { weights: request.weights, stepsRun: 0, losses: [], evalLossBefore: null, evalLossAfter: null, cancelled: true, tokensSeen: 0 };
  }
  const stopFlag = new SharedArrayBuffer(4);
  const stop = (): void => {
    Atomics.store(new Int32Array(stopFlag), 0, 1);
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  const worker = spawnTrainingThread();
  try {
    return await new Promise<TrainingResult>((resolve, reject) => {
      worker.on('message', (message: FromTrainingThread) => {
        if (message.type === 'step') {
          try {
            options.onStep?.(message.progress);
          } catch (error) {
            stop(); // a throwing progress consumer ends the training, never silently
            reject(error);
          }
        } else if (message.type === 'done') resolve(message.result);
        else reject(deserializeError(message.error));
      });
      worker.on('error', (error) => reject(new EngineUnavailableError(`training thread failed: ${error.message}`, { cause: error })));
      worker.on('exit', (code) => reject(new EngineUnavailableError(`training thread exited (code ${code})`)));
      const message: ToTrainingThread = { type: 'train', request, stopFlag };
      worker.postMessage(message);
    });
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await worker.terminate();
  }
}
