// The ONNX Runtime sessions of one model inside a session thread: the decoder (one KV-cache step
// per run) and, created on first use, the evaluation graph derived from the same bytes.
import * as ort from 'onnxruntime-node';
import { checkDecoderSignature, type DecoderSignature } from './decoder-signature.js';
import { deriveEvalGraph } from './eval-graph-deriver.js';
import { type Gpt2Config, headDim } from './gpt2-config.js';
import { KvCache } from './kv-cache.js';
import { checkOnnxModel } from './onnx-model-checks.js';
import { ModelLoadError } from './runtime-errors.js';
import type { EvalBatch } from './session-thread-protocol.js';

export interface DecoderStep {
  batch: number;
  seq: number;
  inputIds: BigInt64Array;
  positionIds: BigInt64Array;
  /** [batch, cache.length + seq] */
  attentionMask: BigInt64Array;
  cache: KvCache;
}

export class DecoderSession {
  private evalSession: Promise<ort.InferenceSession> | undefined;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly rereadBytes: () => Promise<Uint8Array>,
    private readonly config: Gpt2Config,
    private readonly options: ort.InferenceSession.SessionOptions,
    readonly signature: DecoderSignature,
  ) {}

  /** `rereadBytes` returns the same verified bytes again, for the evaluation graph built on first use. */
  static async create(
    bytes: Uint8Array,
    config: Gpt2Config,
    threads: number,
    rereadBytes: () => Promise<Uint8Array> = async () => bytes,
  ): Promise<DecoderSession> {
    // Explicit thread counts, and pool threads that sleep instead of spinning between runs: the
    // cores are shared with the event loop, the gateway and other workers (spinning made 2 threads
    // 3-5x slower than 1 on a busy 2-core machine).
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    // Refused before onnxruntime sees it: external data would resolve against this process's cwd.
    checkOnnxModel(bytes);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, options);
    } catch (error) {
      throw new ModelLoadError(`onnxruntime could not load the model: ${(error as Error).message}`, { cause: error });
    }
    const signature = checkDecoderSignature(session.inputMetadata, session.outputMetadata, config);
    const decoder = new DecoderSession(session, rereadBytes, config, options, signature);
    // One throwaway step pays onnxruntime's first-run allocations at load, not in a request's latency.
    await decoder.run({
      batch: 1,
      seq: 1,
      inputIds: BigInt64Array.of(BigInt(config.eosTokenId)),
      positionIds: BigInt64Array.of(0n),
      attentionMask: BigInt64Array.of(1n),
      cache: KvCache.empty(config.nLayer, 1, config.nHead, headDim(config)),
    });
    return decoder;
  }

  async run(step: DecoderStep): Promise<{ logits: Float32Array; cache: KvCache }> {
    const { batch, seq } = step;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', step.inputIds, [batch, seq]),
      attention_mask: new ort.Tensor('int64', step.attentionMask, [batch, step.cache.length + seq]),
    };
    if (this.signature.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', step.positionIds, [batch, seq]);
    if (this.signature.hasUseCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [step.cache.length > 0], [1]);
    const dims = step.cache.dims;
    for (let i = 0; i < this.config.nLayer; i++) {
      feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', step.cache.tensors[2 * i], dims);
      feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', step.cache.tensors[2 * i + 1], dims);
    }
    const out = await this.session.run(feeds);
    const present: Float32Array[] = [];
    for (let i = 0; i < this.config.nLayer; i++) {
      present.push(out[`present.${i}.key`].data as Float32Array, out[`present.${i}.value`].data as Float32Array);
    }
    const cache = KvCache.fromTensors(present, batch, this.config.nHead, step.cache.length + seq, headDim(this.config));
    return { logits: out.logits.data as Float32Array, cache };
  }

  /** Log-probability of each label token, [batch * length]. */
  async evaluate(batch: EvalBatch): Promise<Float32Array> {
    if (!this.evalSession) {
      const created = this.rereadBytes().then((bytes) => ort.InferenceSession.create(deriveEvalGraph(bytes, this.config), this.options));
      this.evalSession = created;
      created.catch(() => {
        if (this.evalSession === created) this.evalSession = undefined; // a later call may retry
      });
    }
    const session = await this.evalSession;
    const dims = [batch.batch, batch.length];
    const positions = new BigInt64Array(batch.batch * batch.length);
    for (let i = 0; i < positions.length; i++) positions[i] = BigInt(i % batch.length);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', batch.inputIds, dims),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
      labels: new ort.Tensor('int64', batch.labels, dims),
    };
    if (this.signature.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', positions, dims);
    const out = await session.run(feeds);
    return out.token_logprobs.data as Float32Array;
  }

  async dispose(): Promise<void> {
    await this.session.release();
    if (this.evalSession) await (await this.evalSession).release();
  }
}
