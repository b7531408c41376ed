// Per-step timings of jobs for the overhead benchmark (bench/overhead.ts): off unless JOB_SPANS_FILE
// is set, then every process (gateway and workers) appends `{job, step, ms}` JSON lines to that file,
// buffered and flushed every 200 ms and at exit. Off, each call is one branch: nothing is timed.
import { appendFileSync } from 'node:fs';

const file = process.env.JOB_SPANS_FILE;
let buffer: string[] = [];

function flush() {
  if (!file || buffer.length === 0) return;
  const lines = buffer.join('');
  buffer = [];
  appendFileSync(file, lines);
}

if (file) {
  setInterval(flush, 200).unref();
  process.on('exit', flush);
}

export const spansEnabled = file !== undefined;

export function recordSpan(jobId: string, step: string, ms: number): void {
  if (file) buffer.push(`${JSON.stringify({ job: jobId, step, ms: Math.round(ms * 1000) / 1000 })}\n`);
}

/** Runs `fn`, recording how long it took as `step` of `jobId` when spans are on. */
export async function timed<T>(jobId: string, step: string, fn: () => Promise<T>): Promise<T> {
  if (!file) return fn();
  const started = performance.now();
  try {
    return await fn();
  } finally {
    recordSpan(jobId, step, performance.now() - started);
  }
}
