// Messages between the caller's thread and a training thread (structured-clone friendly).
import type { SerializedError } from '../runtime/runtime-errors.js';
import type { TrainingRequest, TrainingResult, TrainingStepProgress } from './training-loop.js';

export interface ToTrainingThread {
  type: 'train';
  request: TrainingRequest;
  /** Int32Array[1] over shared memory: non-zero asks the loop to stop at the next step boundary. */
  stopFlag: SharedArrayBuffer;
}

export type FromTrainingThread =
  | { type: 'step'; progress: TrainingStepProgress }
  | { type: 'done'; result: TrainingResult }
  | { type: 'failed'; error: SerializedError };
