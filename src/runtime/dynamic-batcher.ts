// Groups concurrent generate requests for one model: a request waits at most `maxWaitMs` for
// company, and at most `maxBatch` rows run in the session thread at once (more wait for a slot).
// Rows are sent as they are; the session thread merges them into its running batch.
import type { RowHandlers, SessionThreadClient } from './session-thread-client.js';
import type { RowRequest } from './session-thread-protocol.js';

interface Queued {
  request: RowRequest;
  handlers: RowHandlers;
  enqueuedAt: number;
}

export interface DynamicBatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
}

export class DynamicBatcher {
  private readonly queue: Queued[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly thread: SessionThreadClient,
    private readonly options: DynamicBatcherOptions,
  ) {}

  /** Requests waiting for a slot, and requests running in the session thread. */
  stats(): { queuedRequests: number; runningRequests: number } {
    return { queuedRequests: this.queue.length, runningRequests: this.inFlight };
  }

  submit(request: RowRequest, handlers: RowHandlers): void {
    this.queue.push({ request, handlers, enqueuedAt: performance.now() });
    this.schedule();
  }

  /** Removes a request that has not been sent yet; false when it is already running. */
  withdraw(requestId: number): boolean {
    const at = this.queue.findIndex((q) => q.request.requestId === requestId);
    if (at < 0) return false;
    this.queue.splice(at, 1);
    return true;
  }

  /** Ends every request still waiting as cancelled (engine closing). */
  drain(): void {
    clearTimeout(this.timer);
    for (const { request, handlers } of this.queue.splice(0)) {
      handlers.onDone({ requestId: request.requestId, output: '', outputTokenIds: [], finishReason: 'cancelled', computeMs: 0 });
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const free = this.options.maxBatch - this.inFlight;
    if (this.queue.length === 0 || free <= 0) return; // a finishing row calls schedule() again
    const waited = performance.now() - this.queue[0].enqueuedAt;
    if (this.queue.length >= free || waited >= this.options.maxWaitMs) {
      this.send(this.queue.splice(0, free));
      return;
    }
    this.timer = setTimeout(() => this.schedule(), Math.max(0, this.options.maxWaitMs - waited));
  }

  private send(batch: Queued[]): void {
    this.inFlight += batch.length;
    const release = (): void => {
      this.inFlight--;
      this.schedule();
    };
    this.thread.generate(
      batch.map(({ request, handlers }) => ({
        request,
        handlers: {
          onToken: handlers.onToken,
          onDone: (result) => {
            release();
            handlers.onDone(result);
          },
          onError: (error) => {
            release();
            handlers.onError(error);
          },
        },
      })),
    );
  }
}
