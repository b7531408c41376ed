// Nothing lost, nothing stuck: a worker on the wrong database refuses to start, unknown jobs are never
// completed, Postgres and Redis faults are ridden out, and every job ends final with its hold settled once.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEntry, type RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { createTestDatabase } from '../../helpers/test-database.js';
import { eventually, startWorker, stopWorker } from '../../helpers/worker-process.js';
import { isWorkerAlive } from '../../../src/jobs/worker-heartbeat.js';

let t: TestApp;
const workers: RunningProcess[] = [];
beforeAll(async () => {
  t = await createTestApp();
  await registerTinyModel(t);
});
afterEach(async () => {
  for (const w of workers.splice(0)) await stopWorker(w);
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const json = (res: { body: string }) => JSON.parse(res.body);
const submitAsync = (app: TestApp, headers: Record<string, string>, input: string, max = 4) =>
  app.app.inject({
    method: 'POST',
    url: '/v1/infer',
    headers: { ...headers, prefer: 'respond-async' },
    payload: { model: 'tiny-gpt2', input, parameters: { max_new_tokens: max } },
  });
const getJob = async (app: TestApp, headers: Record<string, string>, id: string) =>
  json(await app.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers }));
const balance = async (app: TestApp, headers: Record<string, string>) =>
  json(await app.app.inject({ method: 'GET', url: '/v1/account', headers }));

async function settleCount(app: TestApp, jobId: string): Promise<number> {
  const r = (await app.app.db.execute(
    sql`SELECT count(*)::int AS n FROM ledger_transactions t JOIN jobs j ON j.hold_id = t.hold_id WHERE j.id = ${jobId} AND t.kind = 'settle'`,
  )) as unknown as { rows: { n: number }[] };
  return r.rows[0].n;
}

async function finalJob(app: TestApp, headers: Record<string, string>, id: string, timeoutMs = 30_000) {
  return eventually(async () => {
    const j = await getJob(app, headers, id);
    return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
  }, timeoutMs);
}

describe('a worker refuses to run against the wrong database', () => {
  it('refuses to start without DATABASE_URL, naming it', async () => {
    const proc = startEntry('src/worker.ts', {
      REDIS_URL: t.config.redisUrl,
      REDIS_PREFIX: t.config.redisPrefix,
      POSTHUMAN_DATA_DIR: `${t.config.dataDir}-nodb`,
      CHAIN: 'off',
    });
    expect(await proc.exited(60_000)).not.toBe(0);
    expect(proc.output()).toMatch(/DATABASE_URL/);
    expect(proc.output()).not.toMatch(/ready/);
  });

  it("refuses to start on another database than the gateway's on its Redis prefix", async () => {
    const other = await createTestDatabase();
    try {
      const proc = startEntry('src/worker.ts', {
        DATABASE_URL: other.url,
        REDIS_URL: t.config.redisUrl,
        REDIS_PREFIX: t.config.redisPrefix,
        POSTHUMAN_DATA_DIR: t.config.dataDir,
        CHAIN: 'off',
        LOG_LEVEL: 'warn',
      });
      expect(await proc.exited(60_000)).toBe(1);
      expect(proc.output()).toMatch(/refused to start: this worker's database .* is not the gateway's/);
    } finally {
      await other.drop();
    }
  });

  it('never completes a job id its database does not hold: it stays in the queue, failed or delayed', async () => {
    const worker = await startWorker(t, { WORKER_ID: 'wrong-place' });
    workers.push(worker);
    // A job of some other deployment, as a worker on the wrong database would see it.
    const stranger = randomUUID();
    await t.app.jobQueue.enqueue('infer', stranger);
    await worker.waitFor(/JOB NOT FOUND/);
    const queue = new Queue('infer', { connection: t.redis!, prefix: `${t.config.redisPrefix}:bull` });
    try {
      const state = await eventually(async () => {
        const s = await queue.getJobState(stranger);
        return s === 'delayed' || s === 'failed' || s === 'completed' ? s : null;
      });
      expect(state).not.toBe('completed');
    } finally {
      await queue.close();
    }
  });
});

describe('workers ride out faults', () => {
  it('stays up when Postgres terminates its connections under load, and every job finishes', async () => {
    const { headers } = await createFundedAccount(t, { credits: 10_000_000 });
    const worker = await startWorker(t, { WORKER_ID: 'pg-victim', POSTHUMAN_FAULT_START_DELAY_MS: '200' });
    workers.push(worker);
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(json(await submitAsync(t, headers, `terminated ${i}`)).id);
    let terminated = 0;
    await eventually(async () => {
      const r = (await t.app.db.execute(
        sql`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'posthuman-worker:pg-victim%'`,
      )) as unknown as { rows: { n: number }[] };
      terminated += r.rows[0].n;
      return terminated >= 6;
    });
    const done = await Promise.all(ids.map((id) => finalJob(t, headers, id, 60_000)));
    expect(done.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    expect(worker.child.exitCode).toBeNull();
    for (const id of ids) expect(await settleCount(t, id)).toBe(1);
  });

  it('a killed worker: its job runs again on a live worker without waiting out its lock', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    // The default 30 s lock: BullMQ alone would hold the job that long. The heartbeat expires in 3 s.
    const doomed = await startWorker(t, { WORKER_ID: 'doomed-2', POSTHUMAN_FAULT_START_DELAY_MS: '60000' });
    workers.push(doomed);
    const job = json(await submitAsync(t, headers, 'killed, default lock'));
    await eventually(async () => (await getJob(t, headers, job.id)).status === 'running');
    doomed.child.kill('SIGKILL');
    await doomed.exited();
    const killedAt = Date.now();
    workers.push(await startWorker(t, { WORKER_ID: 'survivor-2' }));
    const done = await finalJob(t, headers, job.id, 20_000);
    console.log(`killed worker's job final ${Date.now() - killedAt} ms after the kill (including the survivor's start)`);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(2);
    expect(await settleCount(t, job.id)).toBe(1);
  });

  it("re-queues under a fresh id a job BullMQ failed at its stalled limit while it is running in Postgres", async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    // Its heartbeat outlives the test, so only BullMQ's stalled check notices the kill.
    const doomed = await startWorker(t, { WORKER_ID: 'stalled', WORKER_HEARTBEAT_MS: '60000', WORKER_LOCK_MS: '1000', POSTHUMAN_FAULT_START_DELAY_MS: '60000' });
    workers.push(doomed);
    const job = json(await submitAsync(t, headers, 'stalled out'));
    await eventually(async () => (await getJob(t, headers, job.id)).status === 'running');
    doomed.child.kill('SIGKILL');
    await doomed.exited();
    const fast = { WORKER_LOCK_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500', WORKER_MAX_STALLED: '0' };
    workers.push(await startWorker(t, { ...fast, WORKER_ID: 'after-stall' }));
    // Seen taking 20-35 s on a loaded 2-core CI machine: the outcome is the test, not the time.
    const done = await finalJob(t, headers, job.id, 120_000);
    expect(done.status).toBe('succeeded');
    expect(await t.redis!.get(`${t.config.redisPrefix}:job-queue-id:${job.id}`)).toBe(`${job.id}.1`);
    const queue = new Queue('infer', { connection: t.redis!, prefix: `${t.config.redisPrefix}:bull` });
    try {
      // The first entry, failed by BullMQ, is superseded (removed); it was never completed.
      expect(['failed', 'unknown']).toContain(await queue.getJobState(job.id));
    } finally {
      await queue.close();
    }
    expect(await settleCount(t, job.id)).toBe(1);
  }, 240_000);

  it('fails a job that keeps losing its workers after JOB_MAX_REQUEUES, releasing its hold once', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const doomed = await startWorker(t, { WORKER_ID: 'stalled-b', WORKER_HEARTBEAT_MS: '60000', WORKER_LOCK_MS: '1000', POSTHUMAN_FAULT_START_DELAY_MS: '60000' });
    workers.push(doomed);
    const job = json(await submitAsync(t, headers, 'stalled for good'));
    await eventually(async () => (await getJob(t, headers, job.id)).status === 'running');
    doomed.child.kill('SIGKILL');
    await doomed.exited();
    workers.push(
      await startWorker(t, { WORKER_ID: 'judge', WORKER_LOCK_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500', WORKER_MAX_STALLED: '0', JOB_MAX_REQUEUES: '0' }),
    );
    const done = await finalJob(t, headers, job.id, 120_000);
    expect(done).toMatchObject({ status: 'failed', cost: 0, error: { code: 'worker_lost' } });
    expect(await settleCount(t, job.id)).toBe(1);
    expect(await balance(t, headers)).toMatchObject({ held: 0, balance: 1_000_000 });
  }, 240_000);

  it('cancels a job stuck on a dead worker at once, releasing its hold', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const doomed = await startWorker(t, { WORKER_ID: 'stuck', POSTHUMAN_FAULT_START_DELAY_MS: '60000' });
    workers.push(doomed);
    const job = json(await submitAsync(t, headers, 'stuck forever'));
    await eventually(async () => (await getJob(t, headers, job.id)).status === 'running');
    doomed.child.kill('SIGKILL');
    await doomed.exited();
    // No worker is left to run its watchdog: the cancel itself must end it.
    await eventually(async () => !(await isWorkerAlive(t.redis!, t.config.redisPrefix, 'stuck')));
    const cancel = await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}`, headers });
    expect(cancel.statusCode).toBe(200);
    expect(json(cancel)).toMatchObject({ status: 'cancelled', cost: 0 });
    expect(await settleCount(t, job.id)).toBe(1);
    expect(await balance(t, headers)).toMatchObject({ held: 0, balance: 1_000_000 });
  });

  it('resumes queued jobs soon after Redis loses them, without a restart', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const worker = await startWorker(t, { WORKER_ID: 'flushed', POSTHUMAN_FAULT_START_DELAY_MS: '1500', WORKER_CONCURRENCY: '1' });
    workers.push(worker);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(json(await submitAsync(t, headers, `flushed ${i}`)).id);
    const keys = await t.redis!.keys(`${t.config.redisPrefix}:bull:*`);
    await t.redis!.del(...keys);
    const flushedAt = Date.now();
    const done = await Promise.all(ids.map((id) => finalJob(t, headers, id, 20_000)));
    console.log(`jobs lost in a flush final ${Date.now() - flushedAt} ms after it`);
    expect(done.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
  });
});

describe('workers alive', () => {
  it('/readyz and /metrics count live workers per queue; with none, new jobs get 503 no_workers', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    await eventually(async () => json(await t.app.inject({ method: 'GET', url: '/readyz' })).checks.workers === 'none');
    const idle = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(idle.statusCode).toBe(200);
    expect(json(idle)).toMatchObject({ status: 'degraded', workers: { infer: 0, evaluate: 0 } });
    const refused = await submitAsync(t, headers, 'nobody home');
    expect(refused.statusCode).toBe(503);
    expect(json(refused).code).toBe('no_workers');
    expect(refused.headers['retry-after']).toBe('5');
    expect(await balance(t, headers)).toMatchObject({ held: 0, balance: 1_000_000 });

    workers.push(await startWorker(t, { WORKER_ID: 'present' }));
    const ready = json(await t.app.inject({ method: 'GET', url: '/readyz' }));
    expect(ready).toMatchObject({ status: 'ready', checks: { workers: 'ok' }, workers: { infer: 1, evaluate: 1, audit: 1 } });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.operatorHeaders });
    expect(metrics.body).toMatch(/posthuman_workers_alive\{queue="infer"\} 1/);
    const accepted = await submitAsync(t, headers, 'someone home');
    expect(accepted.statusCode).toBe(202);
    expect((await finalJob(t, headers, json(accepted).id)).status).toBe('succeeded');
  });
});

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('a Redis restart (its own server, killed and started empty)', () => {
  it('answers a sync request by its deadline while Redis is down, and resumes queued jobs once it is back', async () => {
    const port = await freePort();
    const redisArgs = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const spawnRedis = async () => {
      const { spawn } = await import('node:child_process');
      const child = spawn('redis-server', redisArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      await eventually(async () => out.includes('Ready to accept connections'), 10_000);
      return child;
    };
    let redis = await spawnRedis();
    const url = `redis://127.0.0.1:${port}`;
    const gw = await createTestApp({ REDIS_URL: url, SYNC_TIMEOUT_MS: '1000' }, t.testDb);
    const own: RunningProcess[] = [];
    try {
      own.push(await startWorker(gw, { WORKER_ID: 'redis-victim', POSTHUMAN_FAULT_START_DELAY_MS: '1000', WORKER_CONCURRENCY: '1' }));
      const { headers } = await createFundedAccount(gw, { credits: 10_000_000 });
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(json(await submitAsync(gw, headers, `redis restart ${i}`)).id);
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      // Redis is down: a sync request answers 202 with the job URL at its deadline instead of hanging.
      const sync = await gw.app.inject({
        method: 'POST',
        url: '/v1/infer',
        headers,
        payload: { model: 'tiny-gpt2', input: 'while redis is down', parameters: { max_new_tokens: 2 } },
      });
      expect(sync.statusCode).toBe(202);
      expect(sync.headers.location).toMatch(/^\/v1\/jobs\//);
      ids.push(json(sync).id);
      redis = await spawnRedis();
      const backAt = Date.now();
      const done = await Promise.all(ids.map((id) => finalJob(gw, headers, id, 20_000)));
      console.log(`jobs final ${Date.now() - backAt} ms after Redis came back empty`);
      expect(done.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
      expect(own[0].child.exitCode).toBeNull();
    } finally {
      for (const w of own) await stopWorker(w);
      await gw.close().catch(() => {});
      redis.kill('SIGKILL');
    }
  });
});
