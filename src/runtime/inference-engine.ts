// The runtime's public face: createInferenceEngine() loads a model folder into a session thread and
// serves generate() (dynamically batched, streamed, cancellable) and evaluate() from the main thread.
import { DynamicBatcher } from './dynamic-batcher.js';
import { aggregateEvalScores, buildEvalBatch, groupEvalWindows, planEvalWindows, type TextScore } from './evaluation-planner.js';
import { type GenerateRequest, normalizeGenerateParams } from './generation-params.js';
import { getGpt2Tokenizer } from './gpt2-tokenizer.js';
import { inspectModelFolder } from './model-folder.js';
import { CancelledError, ContextLengthError, EngineUnavailableError, InvalidParameterError } from './runtime-errors.js';
import { SessionThreadClient } from './session-thread-client.js';
import type { FinishReason } from './session-thread-protocol.js';

export interface InferenceEngineOptions {
  modelDir: string;
  /** When given, loading fails with WeightsMismatchError unless the decoder file hashes to it. */
  expectedSha256?: string;
  /** onnxruntime intra-op threads of the session thread (default 1). */
  threads?: number;
  /** Most generate requests decoded together (default 8). */
  maxBatch?: number;
  /** Longest a generate request waits for others to batch with (default 5 ms). */
  maxWaitMs?: number;
  /** Tokens scored per sliding window after the first when a text exceeds the context (default context/2). */
  evalStride?: number;
}

export interface EngineInfo {
  weightsSha256: string;
  contextLength: number;
  vocabSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  eosTokenId: number;
  runtime: { name: 'onnxruntime-node'; version: string };
}

export interface GenerateOptions {
  /** Called once per generated token, in order; the texts concatenate to `output`. */
  onToken?: (text: string, tokenId: number) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  output: string;
  /** Every token the model produced, including a final EOS or the tokens that completed a stop sequence. */
  outputTokenIds: number[];
  inputTokens: number;
  outputTokens: number;
  finishReason: FinishReason;
  /** Wall time from this request's prefill to its last token (batched requests overlap). */
  computeMs: number;
}

export interface EvaluateResult extends TextScore {
  results: TextScore[];
  computeMs: number;
}

export interface EngineStats {
  /** Generate requests waiting for a batch slot. */
  queuedRequests: number;
  /** Generate requests decoding in the session thread (at most maxBatch). */
  runningRequests: number;
}

export interface InferenceEngine {
  readonly info: EngineInfo;
  countTokens(text: string): number;
  stats(): EngineStats;
  generate(request: GenerateRequest, options?: GenerateOptions): Promise<GenerateResult>;
  evaluate(request: { texts: string[] }, options?: { signal?: AbortSignal }): Promise<EvaluateResult>;
  /** Running and queued generations end as 'cancelled'; later calls reject with EngineUnavailableError. */
  close(): Promise<void>;
}

/** Evaluation batches are capped in tokens: each token carries a vocabulary-wide logits row. */
const EVAL_TOKEN_BUDGET = 512;

export async function createInferenceEngine(options: InferenceEngineOptions): Promise<InferenceEngine> {
  const threads = options.threads ?? 1;
  const maxWaitMs = options.maxWaitMs ?? 5;
  const requestedMaxBatch = options.maxBatch ?? 8;
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidParameterError('threads', 'must be an integer >= 1');
  if (!Number.isInteger(requestedMaxBatch) || requestedMaxBatch < 1) throw new InvalidParameterError('maxBatch', 'must be an integer >= 1');
  if (!(maxWaitMs >= 0)) throw new InvalidParameterError('maxWaitMs', 'must be >= 0');
  const folder = await inspectModelFolder(options.modelDir);
  const { config } = folder;
  const evalStride = options.evalStride ?? Math.max(1, Math.floor(config.nPositions / 2));
  if (!Number.isInteger(evalStride) || evalStride < 1 || evalStride > config.nPositions) {
    throw new InvalidParameterError('evalStride', `must be an integer in [1, ${config.nPositions}]`);
  }
  const tokenizer = getGpt2Tokenizer();
  const thread = new SessionThreadClient();
  let loaded: Awaited<ReturnType<SessionThreadClient['load']>>;
  try {
    loaded = await thread.load({ onnxPath: folder.onnxPath, expectedSha256: options.expectedSha256, config, threads });
  } catch (error) {
    await thread.close();
    throw error;
  }
  // Without a position_ids input the export derives positions from the past length, which left
  // padding would shift: such models decode one request at a time.
  const maxBatch = loaded.hasPositionIds ? requestedMaxBatch : 1;
  const batcher = new DynamicBatcher(thread, { maxBatch, maxWaitMs });
  let nextRequestId = 1;
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new EngineUnavailableError('the inference engine is closed');
  };

  const info: EngineInfo = {
    weightsSha256: loaded.weightsSha256,
    contextLength: config.nPositions,
    vocabSize: config.vocabSize,
    nLayer: config.nLayer,
    nHead: config.nHead,
    nEmbd: config.nEmbd,
    eosTokenId: config.eosTokenId,
    runtime: { name: 'onnxruntime-node', version: loaded.runtimeVersion },
  };

  const generate = async (request: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> => {
    ensureOpen();
    const params = normalizeGenerateParams(request);
    // An empty prompt starts from <|endoftext|>, GPT-2's document separator, as HF does unconditionally.
    const encoded = tokenizer.encode(request.input);
    const inputIds = encoded.length > 0 ? encoded : [config.bosTokenId];
    if (inputIds.length >= config.nPositions) throw new ContextLengthError(config.nPositions, inputIds.length);
    const requestId = nextRequestId++;
    const base = { inputTokens: inputIds.length };
    if (opts.signal?.aborted) return { ...base, output: '', outputTokenIds: [], outputTokens: 0, finishReason: 'cancelled', computeMs: 0 };
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (batcher.withdraw(requestId)) {
          cleanup();
          resolve({ ...base, output: '', outputTokenIds: [], outputTokens: 0, finishReason: 'cancelled', computeMs: 0 });
        } else thread.cancel(requestId);
      };
      const cleanup = (): void => opts.signal?.removeEventListener('abort', onAbort);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      batcher.submit(
        { requestId, inputIds, ...params },
        {
          onToken: (tokenId, text) => {
            try {
              opts.onToken?.(text, tokenId);
            } catch (error) {
              // A throwing stream consumer ends its own request, never the batch it shares.
              thread.cancel(requestId);
              cleanup();
              reject(error);
            }
          },
          onDone: (result) => {
            cleanup();
            resolve({
              ...base,
              output: result.output,
              outputTokenIds: result.outputTokenIds,
              outputTokens: result.outputTokenIds.length,
              finishReason: result.finishReason,
              computeMs: result.computeMs,
            });
          },
          onError: (error) => {
            cleanup();
            reject(error);
          },
        },
      );
    });
  };

  const evaluate = async (request: { texts: string[] }, opts: { signal?: AbortSignal } = {}): Promise<EvaluateResult> => {
    ensureOpen();
    const started = performance.now();
    if (!Array.isArray(request.texts) || request.texts.length === 0) throw new InvalidParameterError('texts', 'must be a non-empty array');
    const texts = request.texts.map((text, i) => {
      if (typeof text !== 'string') throw new InvalidParameterError(`texts[${i}]`, 'must be a string');
      const ids = tokenizer.encode(text);
      if (ids.length < 2) throw new InvalidParameterError(`texts[${i}]`, 'needs at least 2 tokens (the first token is never scored)');
      return ids;
    });
    const windows = planEvalWindows(texts, config.nPositions, evalStride);
    const logprobs: Float32Array[] = new Array(windows.length);
    for (const group of groupEvalWindows(windows, maxBatch, Math.max(EVAL_TOKEN_BUDGET, config.nPositions))) {
      if (opts.signal?.aborted) throw new CancelledError('evaluation cancelled');
      const batch = buildEvalBatch(
        group.map((i) => windows[i]),
        texts,
        config.eosTokenId,
      );
      const scores = await thread.evaluate(batch);
      group.forEach((w, b) => {
        logprobs[w] = scores.subarray(b * batch.length, (b + 1) * batch.length);
      });
    }
    const { overall, results } = aggregateEvalScores(windows, logprobs, texts.length);
    return { ...overall, results, computeMs: performance.now() - started };
  };

  return {
    info,
    countTokens: (text) => tokenizer.encode(text).length,
    stats: () => batcher.stats(),
    generate,
    evaluate,
    close: async () => {
      if (closed) return;
      closed = true;
      batcher.drain();
      await thread.close();
    },
  };
}
