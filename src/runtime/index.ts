// Public API of the transformer runtime: the engine factory, its types, the typed errors, and the
// model-folder helpers the CLI and the embedded default model use.
export {
  createInferenceEngine,
  type EngineInfo,
  type EngineStats,
  type EvaluateResult,
  type GenerateOptions,
  type GenerateResult,
  type InferenceEngine,
  type InferenceEngineOptions,
} from './inference-engine.js';
export type { GenerateRequest } from './generation-params.js';
export type { TextScore } from './evaluation-planner.js';
export type { FinishReason } from './session-thread-protocol.js';
export type { Gpt2Config } from './gpt2-config.js';
export {
  CancelledError,
  ContextLengthError,
  EngineUnavailableError,
  InvalidParameterError,
  ModelLoadError,
  RuntimeError,
  WeightsMismatchError,
} from './runtime-errors.js';
export { DECODER_FILE_CANDIDATES, inspectModelFolder, type ModelFolder } from './model-folder.js';
export { validateModelFolder, type ValidatedModel } from './model-validator.js';
export { sha256File } from './weights-file.js';
export {
  type BuildTinyModelOptions,
  type BuiltTinyModel,
  buildTinyModel,
  DEFAULT_TINY_MODEL_DIR,
  DEFAULT_TINY_SEED,
} from './tiny-model-builder.js';
