// Starts a real worker process (src/worker.ts) against a test app's database and Redis prefix.
import { startEntry, type RunningProcess } from './child-process.js';
import type { TestApp } from './test-app.js';
import { startWorkerHeartbeat } from '../../src/jobs/worker-heartbeat.js';

export async function startWorker(t: TestApp, env: Record<string, string> = {}): Promise<RunningProcess> {
  const proc = startEntry('src/worker.ts', {
    DATABASE_URL: t.testDb.url,
    REDIS_URL: t.config.redisUrl,
    REDIS_PREFIX: t.config.redisPrefix,
    POSTHUMAN_DATA_DIR: t.config.dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    WORKER_THREADS: '1',
    CHAIN: 'off',
    ...env,
  });
  await proc.waitFor(/worker \S+ ready/, 60_000);
  return proc;
}

export async function stopWorker(proc: RunningProcess | undefined) {
  if (!proc || proc.child.exitCode !== null) return;
  proc.child.kill('SIGTERM');
  await proc.exited(30_000).catch(() => proc.child.kill('SIGKILL'));
}

/**
 * Heartbeats as a worker that consumes nothing, so the gateway accepts jobs (it refuses them with
 * 503 no_workers when no worker is alive) and they stay queued. Returns a stop function.
 */
export async function idleWorkerHeartbeat(t: TestApp, workerId = 'idle-worker'): Promise<() => Promise<void>> {
  const heartbeat = startWorkerHeartbeat(t.redis!, t.config.redisPrefix, workerId, { intervalMs: 1000 });
  await heartbeat.beat();
  return () => heartbeat.stop();
}

/** Polls `fn` until it returns a truthy value or the deadline passes (no fixed sleeps). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
