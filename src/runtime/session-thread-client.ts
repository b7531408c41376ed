// Main-thread handle on one session thread: starts the worker (through tsx when running from
// TypeScript sources), routes streamed tokens and results to their requests, and fails everything
// pending with EngineUnavailableError if the thread dies.
import { Worker } from 'node:worker_threads';
import { deserializeError, EngineUnavailableError } from './runtime-errors.js';
import type { EvalBatch, FromThread, LoadedModel, LoadRequest, RowRequest, RowResult, ToThread } from './session-thread-protocol.js';

type CallMessage = Extract<ToThread, { callId: number }>;

export interface RowHandlers {
  onToken(tokenId: number, text: string): void;
  onDone(result: RowResult): void;
  onError(error: Error): void;
}

function spawnSessionThread(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './session-thread.ts' : './session-thread.js', import.meta.url);
  if (!fromSources) return new Worker(entry);
  // A worker does not inherit tsx's loader; register it inside the thread before importing the entry.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

export class SessionThreadClient {
  private readonly worker = spawnSessionThread();
  private readonly calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly rows = new Map<number, RowHandlers>();
  private nextCallId = 1;
  private failure: Error | undefined;

  constructor() {
    this.worker.on('message', (message: FromThread) => this.receive(message));
    this.worker.on('error', (error) => this.fail(new EngineUnavailableError(`session thread failed: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => this.fail(new EngineUnavailableError(`session thread exited (code ${code})`)));
    this.updateRef();
  }

  load(load: LoadRequest): Promise<LoadedModel> {
    return this.call({ type: 'load', callId: 0, load }) as Promise<LoadedModel>;
  }

  generate(rows: Array<{ request: RowRequest; handlers: RowHandlers }>): void {
    if (this.failure) {
      for (const row of rows) row.handlers.onError(this.failure);
      return;
    }
    for (const row of rows) this.rows.set(row.request.requestId, row.handlers);
    this.post({ type: 'generate', rows: rows.map((r) => r.request) });
  }

  cancel(requestId: number): void {
    if (this.rows.has(requestId)) this.post({ type: 'cancel', requestId });
  }

  evaluate(batch: EvalBatch): Promise<Float32Array> {
    const transfer = [batch.inputIds.buffer, batch.attentionMask.buffer, batch.labels.buffer] as ArrayBuffer[];
    return this.call({ type: 'evaluate', callId: 0, batch }, transfer) as Promise<Float32Array>;
  }

  async close(): Promise<void> {
    if (!this.failure) {
      await this.call({ type: 'close', callId: 0 }).catch(() => undefined);
      this.fail(new EngineUnavailableError('the inference engine is closed'));
    }
    await this.worker.terminate();
  }

  private call(message: CallMessage, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const callId = this.nextCallId++;
    return new Promise((resolve, reject) => {
      this.calls.set(callId, { resolve, reject });
      this.post({ ...message, callId } as CallMessage, transfer);
    });
  }

  private post(message: ToThread, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
    this.updateRef();
  }

  private receive(message: FromThread): void {
    switch (message.type) {
      case 'reply':
      case 'failed': {
        const call = this.calls.get(message.callId);
        this.calls.delete(message.callId);
        if (message.type === 'reply') call?.resolve(message.value);
        else call?.reject(deserializeError(message.error));
        break;
      }
      case 'tokens':
        for (const [requestId, tokenId, text] of message.items) this.rows.get(requestId)?.onToken(tokenId, text);
        break;
      case 'row-done': {
        const handlers = this.rows.get(message.result.requestId);
        this.rows.delete(message.result.requestId);
        handlers?.onDone(message.result);
        break;
      }
      case 'rows-failed': {
        const error = deserializeError(message.error);
        for (const requestId of message.requestIds) {
          const handlers = this.rows.get(requestId);
          this.rows.delete(requestId);
          handlers?.onError(error);
        }
        break;
      }
    }
    this.updateRef();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const call of this.calls.values()) call.reject(error);
    for (const handlers of this.rows.values()) handlers.onError(error);
    this.calls.clear();
    this.rows.clear();
  }

  /** An idle thread must not keep the process alive (a CLI that forgets close() still exits). */
  private updateRef(): void {
    if (this.calls.size > 0 || this.rows.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}
