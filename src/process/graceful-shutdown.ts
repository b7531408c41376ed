// Stops a process once, gracefully, whatever signals arrive: Ctrl-C reaches every process of the
// terminal's group and npm forwards it again, so repeats within a moment are one request to stop.
// A signal sent well after the first (a person pressing Ctrl-C again) forces the exit.

export interface ShutdownInfo {
  signal?: NodeJS.Signals;
  err?: unknown;
}

export interface ShutdownOptions {
  /** Longest the close may take before the process exits anyway. */
  delayMs: number;
  /** Signals closer together than this count as one. Default 1000 ms. */
  repeatWindowMs?: number;
  write?: (line: string) => void;
  exit?: (code: number) => void;
  /** Where signals and uncaught errors arrive (tests pass their own emitter). */
  events?: NodeJS.EventEmitter;
  /** Also stop on an uncaught exception or unhandled rejection. Default true. */
  stopOnUncaught?: boolean;
}

export function onShutdown(options: ShutdownOptions, close: (info: ShutdownInfo) => Promise<void>): { stop(info: ShutdownInfo): Promise<void> } {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const repeatWindow = options.repeatWindowMs ?? 1000;
  let firstAt = 0;
  let closing: Promise<void> | undefined;

  const stop = (info: ShutdownInfo): Promise<void> => {
    if (closing) return closing;
    firstAt = Date.now();
    const timer = setTimeout(() => {
      write(`still shutting down after ${options.delayMs} ms: exiting now`);
      exit(1);
    }, options.delayMs);
    timer.unref();
    closing = close(info).then(
      () => {
        clearTimeout(timer);
        exit(info.err ? 1 : 0);
      },
      (err) => {
        clearTimeout(timer);
        write(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        exit(1);
      },
    );
    return closing;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (closing && Date.now() - firstAt > repeatWindow) {
      write(`${signal} again: exiting without waiting`);
      exit(130);
      return;
    }
    void stop({ signal });
  };
  const events = options.events ?? process;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) events.on(signal, onSignal);
  if (options.stopOnUncaught !== false) {
    events.on('uncaughtException', (err) => void stop({ err }));
    events.on('unhandledRejection', (err) => void stop({ err }));
  }
  return { stop };
}
