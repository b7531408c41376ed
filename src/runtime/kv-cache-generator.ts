// The generation loop inside a session thread: continuous batching over one KV cache. Newcomers
// are prefilled together (left-padded), merged into the running batch between decode steps, and
// leave it as soon as they finish; each row samples with its own PRNG, so its tokens are those it
// would get alone.
import type { DecoderSession } from './decoder-session.js';
import { type Gpt2Config, headDim } from './gpt2-config.js';
import { GenerationRow } from './generation-row.js';
import { KvCache } from './kv-cache.js';
import type { RowRequest, RowResult } from './session-thread-protocol.js';
import type { LogitsRow } from './token-sampler.js';

/**
 * Prefill returns logits for every input position (the Optimum I/O), vocab floats each: 2048
 * tokens of GPT-2 vocabulary are ~400 MB, so larger prefills are split (results are unchanged).
 */
const PREFILL_TOKEN_BUDGET = 2048;

export interface GeneratorEvents {
  onTokens(items: Array<[number, number, string]>): void;
  onRowDone(result: RowResult): void;
  onRowsFailed(requestIds: number[], error: unknown): void;
}

export class KvCacheGenerator {
  private incoming: RowRequest[] = [];
  private active: GenerationRow[] = [];
  /** Left padding of each active row in the cache (parallel to `active`). */
  private pads: number[] = [];
  private cache: KvCache;
  private running: Promise<void> | undefined;

  constructor(
    private readonly decoder: DecoderSession,
    private readonly config: Gpt2Config,
    private readonly events: GeneratorEvents,
  ) {
    this.cache = this.emptyCache(0);
  }

  enqueue(rows: RowRequest[]): void {
    this.incoming.push(...rows);
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
  }

  cancel(requestId: number): void {
    const queued = this.incoming.findIndex((r) => r.requestId === requestId);
    if (queued >= 0) {
      this.cancelQueued(this.incoming.splice(queued, 1));
      return;
    }
    const row = this.active.find((r) => r.request.requestId === requestId);
    if (row) row.cancelRequested = true;
  }

  /** Cancels every row (each reports finishReason 'cancelled') and resolves once the loop has stopped. */
  async shutdown(): Promise<void> {
    this.cancelQueued(this.incoming.splice(0));
    for (const row of this.active) row.cancelRequested = true;
    await this.running;
  }

  private cancelQueued(requests: RowRequest[]): void {
    for (const request of requests) {
      const row = new GenerationRow(request, this.config.nPositions, this.config.eosTokenId, performance.now());
      row.cancel();
      this.events.onRowDone(row.result(performance.now()));
    }
  }

  private emptyCache(batch: number): KvCache {
    return KvCache.empty(this.config.nLayer, batch, this.config.nHead, headDim(this.config));
  }

  private async loop(): Promise<void> {
    try {
      while (this.active.length > 0 || this.incoming.length > 0) {
        const cancelled = this.active.filter((row) => row.cancelRequested);
        for (const row of cancelled) row.cancel();
        this.retire(cancelled);
        await this.admit();
        if (this.active.length > 0) await this.decodeStep();
      }
    } catch (error) {
      const ids = [...this.active.map((r) => r.request.requestId), ...this.incoming.map((r) => r.requestId)];
      this.active = [];
      this.pads = [];
      this.incoming = [];
      this.cache = this.emptyCache(0);
      this.events.onRowsFailed(ids, error);
    }
  }

  /**
   * Newcomers join when the merged batch stays within the context (exports that slice a fixed
   * causal-mask buffer fail past n_positions columns); an empty batch always takes them.
   */
  private takeFitting(): RowRequest[] {
    if (this.active.length === 0) return this.incoming.splice(0);
    const taken: RowRequest[] = [];
    let length = this.cache.length;
    let horizon = Math.max(0, ...this.active.map((r) => r.remainingSteps));
    for (const request of [...this.incoming]) {
      const newLength = Math.max(length, request.inputIds.length);
      const newHorizon = Math.max(horizon, Math.min(request.maxNewTokens, this.config.nPositions - request.inputIds.length) - 1);
      if (newLength + newHorizon > this.config.nPositions) continue;
      length = newLength;
      horizon = newHorizon;
      taken.push(request);
      this.incoming.splice(this.incoming.indexOf(request), 1);
    }
    return taken;
  }

  /** Admits the newcomers that fit, prefilled in groups whose logits stay under a token budget. */
  private async admit(): Promise<void> {
    const requests = this.takeFitting();
    let group: RowRequest[] = [];
    for (const request of requests) {
      const length = Math.max(request.inputIds.length, ...group.map((r) => r.inputIds.length));
      if (group.length > 0 && (group.length + 1) * length > PREFILL_TOKEN_BUDGET) {
        await this.prefillAndMerge(group);
        group = [];
      }
      group.push(request);
    }
    if (group.length > 0) await this.prefillAndMerge(group);
  }

  /** Prefills requests as one left-padded batch and merges their cache into the running one. */
  private async prefillAndMerge(requests: RowRequest[]): Promise<void> {
    const startedAt = performance.now();
    const rows = requests.map((r) => new GenerationRow(r, this.config.nPositions, this.config.eosTokenId, startedAt));
    const batch = rows.length;
    const length = Math.max(...requests.map((r) => r.inputIds.length));
    const inputIds = new BigInt64Array(batch * length).fill(BigInt(this.config.eosTokenId));
    const positionIds = new BigInt64Array(batch * length);
    const attentionMask = new BigInt64Array(batch * length);
    const pads = requests.map((r) => length - r.inputIds.length);
    requests.forEach((request, b) => {
      request.inputIds.forEach((id, t) => {
        const at = b * length + pads[b] + t;
        inputIds[at] = BigInt(id);
        positionIds[at] = BigInt(t);
        attentionMask[at] = 1n;
      });
    });
    const out = await this.decoder.run({ batch, seq: length, inputIds, positionIds, attentionMask, cache: this.emptyCache(batch) });
    const vocab = this.config.vocabSize;
    this.emit(rows, (b) => ({ data: out.logits, offset: ((b + 1) * length - 1) * vocab, vocab }));

    // Align the two caches on the right (left padding grows on the shorter side), then stack rows.
    let running = this.cache;
    let newcomers = out.cache;
    if (running.length < length) {
      const grow = length - running.length;
      running = running.shiftLeftEdge(grow);
      this.pads = this.pads.map((p) => p + grow);
    } else if (newcomers.length < running.length) {
      const grow = running.length - length;
      newcomers = newcomers.shiftLeftEdge(grow);
      for (let b = 0; b < pads.length; b++) pads[b] += grow;
    }
    this.cache = running.batch === 0 ? newcomers : running.concatRows(newcomers);
    this.active.push(...rows);
    this.pads.push(...pads);
    this.retire(rows.filter((row) => row.finishReason !== undefined));
  }

  private async decodeStep(): Promise<void> {
    const batch = this.active.length;
    const total = this.cache.length + 1;
    const inputIds = new BigInt64Array(batch);
    const positionIds = new BigInt64Array(batch);
    const attentionMask = new BigInt64Array(batch * total);
    this.active.forEach((row, b) => {
      inputIds[b] = BigInt(row.lastTokenId);
      positionIds[b] = BigInt(row.nextPosition);
      attentionMask.fill(1n, b * total + this.pads[b], (b + 1) * total);
    });
    const out = await this.decoder.run({ batch, seq: 1, inputIds, positionIds, attentionMask, cache: this.cache });
    const vocab = this.config.vocabSize;
    this.cache = out.cache;
    const rows = [...this.active];
    this.emit(rows, (b) => ({ data: out.logits, offset: b * vocab, vocab }));
    this.retire(rows.filter((row) => row.finishReason !== undefined));
  }

  private emit(rows: GenerationRow[], logitsOf: (b: number) => LogitsRow): void {
    const items: Array<[number, number, string]> = [];
    rows.forEach((row, b) => {
      const { tokenId, text } = row.accept(logitsOf(b));
      items.push([row.request.requestId, tokenId, text]);
    });
    this.events.onTokens(items);
  }

  /** Reports finished rows and removes them from the batch, dropping padding nobody needs. */
  private retire(finished: GenerationRow[]): void {
    if (finished.length === 0) return;
    const now = performance.now();
    for (const row of finished) this.events.onRowDone(row.result(now));
    const keep = this.active.map((_, b) => b).filter((b) => !finished.includes(this.active[b]));
    this.active = keep.map((b) => this.active[b]);
    this.pads = keep.map((b) => this.pads[b]);
    this.cache = this.active.length === 0 ? this.emptyCache(0) : this.cache.selectRows(keep);
    const unused = this.active.length === 0 ? 0 : Math.min(...this.pads);
    if (unused > 0) {
      this.cache = this.cache.shiftLeftEdge(-unused);
      this.pads = this.pads.map((p) => p - unused);
    }
  }
}
