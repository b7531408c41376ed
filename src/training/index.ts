// Public API of the trainer: fine-tune a GPT-2 weights dictionary with onnxruntime (the same
// runtime that serves it), prepare token sequences from texts, and read/write model folders.
export { runTraining, type RunTrainingOptions, validateTrainingRequest } from './trainer.js';
export {
  evaluateLoss,
  learningRateAt,
  runTrainingLoop,
  type TrainingHyperparameters,
  type TrainingLoopHooks,
  type TrainingRequest,
  type TrainingResult,
  type TrainingSnapshot,
  type TrainingStepProgress,
} from './training-loop.js';
export {
  type BatchSampler,
  buildTrainingSet,
  countTargets,
  createBatchSampler,
  cutWindows,
  IGNORED_LABEL,
  packBatch,
  seededPermutation,
  splitTrainEval,
  tokenizeDocuments,
  type TrainingSet,
  uniformInt,
} from './training-data.js';
export { buildGpt2TrainingGraph, gradName, type TrainingGraphOptions } from './gpt2-training-graph.js';
export { ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, adamMName, adamVName, isDecayed, STEP_INPUTS, updatedName } from './adamw-graph.js';
export { type AdamMoments, evalFeeds, type StepScalars, type TokenBatch, trainingFeeds, zeroMoments } from './training-feeds.js';
export { ModelNotTrainableError, readGpt2WeightsFromOnnx, readModelFolderWeights } from './weights-from-onnx.js';
export { type WrittenModelFolder, writeModelFolder } from '../runtime/model-folder-writer.js';
export { sha256Bytes as sha256Hex } from '../runtime/weights-file.js';
