// Messages between the main thread and a session thread (plain data: structured-clone friendly).
import type { Gpt2Config } from './gpt2-config.js';
import type { SerializedError } from './runtime-errors.js';
import type { SamplingParams } from './token-sampler.js';

export type FinishReason = 'length' | 'stop' | 'eos' | 'cancelled';

export interface RowRequest extends SamplingParams {
  requestId: number;
  inputIds: number[];
  maxNewTokens: number;
  seed: number;
  stop: string[];
}

export interface RowResult {
  requestId: number;
  output: string;
  outputTokenIds: number[];
  finishReason: FinishReason;
  computeMs: number;
}

/** One scored batch of equal-length (right-padded) windows. */
export interface EvalBatch {
  batch: number;
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  labels: BigInt64Array;
}

export interface LoadRequest {
  onnxPath: string;
  expectedSha256?: string;
  config: Gpt2Config;
  threads: number;
}

export interface LoadedModel {
  weightsSha256: string;
  runtimeVersion: string;
  hasPositionIds: boolean;
}

export type ToThread =
  | { type: 'load'; callId: number; load: LoadRequest }
  | { type: 'generate'; rows: RowRequest[] }
  | { type: 'cancel'; requestId: number }
  | { type: 'evaluate'; callId: number; batch: EvalBatch }
  | { type: 'close'; callId: number };

export type FromThread =
  | { type: 'reply'; callId: number; value: unknown }
  | { type: 'failed'; callId: number; error: SerializedError }
  /** Per decode step: [requestId, tokenId, released text] for each row that produced a token. */
  | { type: 'tokens'; items: Array<[number, number, string]> }
  | { type: 'row-done'; result: RowResult }
  /** Rows the thread could not run (e.g. a session error); they fail, the thread stays usable. */
  | { type: 'rows-failed'; requestIds: number[]; error: SerializedError };
