// One generate request inside a running batch: its sampling PRNG, its streamed text (UTF-8 safe,
// stop sequences held back) and its finish rule. Rows never look at each other, which is what makes
// a batched answer identical to the same request run alone.
import { StopSequenceMatcher } from './stop-sequence-matcher.js';
import { TokenTextStream } from './gpt2-tokenizer.js';
import { createSeededRandom, type SeededRandom } from './seeded-random.js';
import { type LogitsRow, sampleToken } from './token-sampler.js';
import type { FinishReason, RowRequest, RowResult } from './session-thread-protocol.js';

export class GenerationRow {
  readonly outputTokenIds: number[] = [];
  private output = '';
  private readonly text = new TokenTextStream();
  private readonly stops: StopSequenceMatcher;
  private readonly random: SeededRandom | undefined;
  private readonly maxOutputTokens: number;
  finishReason: FinishReason | undefined;
  cancelRequested = false;

  constructor(
    readonly request: RowRequest,
    contextLength: number,
    private readonly eosTokenId: number,
    private readonly startedAt: number,
  ) {
    this.stops = new StopSequenceMatcher(request.stop);
    this.random = request.temperature > 0 ? createSeededRandom(request.seed) : undefined;
    // input + output never exceeds the context; the caller checked there is room for one token.
    this.maxOutputTokens = Math.min(request.maxNewTokens, contextLength - request.inputIds.length);
  }

  /** Position of the next token fed to the model (the last sampled one). */
  get nextPosition(): number {
    return this.request.inputIds.length + this.outputTokenIds.length - 1;
  }

  get lastTokenId(): number {
    return this.outputTokenIds[this.outputTokenIds.length - 1];
  }

  /** Tokens this row may still feed to the model after the current one. */
  get remainingSteps(): number {
    return this.maxOutputTokens - this.outputTokenIds.length;
  }

  /** Samples from this row's logits and returns the text that became safe to stream. */
  accept(logits: LogitsRow): { tokenId: number; text: string } {
    const tokenId = sampleToken(logits, this.request, this.random);
    this.outputTokenIds.push(tokenId);
    let released: string;
    if (tokenId === this.eosTokenId) {
      released = this.finish('eos');
    } else {
      const step = this.stops.push(this.text.push(tokenId));
      if (step.stopped) {
        released = step.text;
        this.finishReason = 'stop';
      } else if (this.outputTokenIds.length >= this.maxOutputTokens) {
        released = step.text + this.finish('length');
      } else {
        released = step.text;
      }
    }
    this.output += released;
    return { tokenId, text: released };
  }

  /** Cancelled rows keep exactly the text already streamed (a held tail might have been a stop). */
  cancel(): void {
    this.finishReason = 'cancelled';
  }

  /** Ends the text: partial UTF-8 becomes U+FFFD (as a one-shot decode would), then held text is released unless it completes a stop. */
  private finish(reason: FinishReason): string {
    const step = this.stops.push(this.text.flush());
    if (step.stopped) {
      this.finishReason = 'stop';
      return step.text;
    }
    this.finishReason = reason;
    return step.text + this.stops.flush();
  }

  result(now: number): RowResult {
    return {
      requestId: this.request.requestId,
      output: this.output,
      outputTokenIds: this.outputTokenIds,
      finishReason: this.finishReason ?? 'cancelled',
      computeMs: now - this.startedAt,
    };
  }
}
