// Jobs under faults: cancel, a full queue, a flushed Redis, a worker killed mid-job.
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually, idleWorkerHeartbeat, startWorker, stopWorker } from '../../helpers/worker-process.js';

let t: TestApp;
const workers: RunningProcess[] = [];
beforeAll(async () => {
  t = await createTestApp({ QUEUE_MAX_DEPTH: '3' });
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
const submitAsync = (headers: Record<string, string>, input: string, max = 16) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/infer',
    headers: { ...headers, prefer: 'respond-async' },
    payload: { model: 'tiny-gpt2', input, parameters: { max_new_tokens: max } },
  });
const getJob = async (headers: Record<string, string>, id: string) =>
  json(await t.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers }));
const balance = async (headers: Record<string, string>) =>
  json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }));

async function settleCount(holdId: string): Promise<number> {
  const r = (await t.app.db.execute(
    sql`SELECT count(*)::int AS n FROM ledger_transactions WHERE hold_id = ${holdId} AND kind = 'settle'`,
  )) as unknown as { rows: { n: number }[] };
  return r.rows[0].n;
}

async function holdOf(jobId: string): Promise<string> {
  const r = (await t.app.db.execute(sql`SELECT hold_id FROM jobs WHERE id = ${jobId}`)) as unknown as {
    rows: { hold_id: string }[];
  };
  return r.rows[0].hold_id;
}

describe('holds under concurrency at the API', () => {
  it('30 concurrent jobs against credit for exactly 10: 10 accepted, 20 refused with 402, nothing overdrawn', async () => {
    // A second gateway on the same database with its own (unconsumed) queue and no depth limit.
    const gw = await createTestApp({ QUEUE_MAX_DEPTH: '1000' }, t.testDb);
    const idle = await idleWorkerHeartbeat(gw);
    try {
      const maxCost = 1_000 + Math.ceil((2_000 * (1 + 16)) / 1_000); // per job + per 1k × (1 input + 16 new tokens)
      const { headers } = await createFundedAccount(gw, { credits: maxCost * 10 });
      const answers = await Promise.all(
        Array.from({ length: 30 }, () =>
          gw.app.inject({
            method: 'POST',
            url: '/v1/infer',
            headers: { ...headers, prefer: 'respond-async' },
            payload: { model: 'tiny-gpt2', input: 'x', parameters: { max_new_tokens: 16 } },
          }),
        ),
      );
      expect(answers.filter((a) => a.statusCode === 202)).toHaveLength(10);
      expect(answers.filter((a) => a.statusCode === 402)).toHaveLength(20);
      expect(answers.filter((a) => a.statusCode === 402).every((a) => json(a).code === 'insufficient_credit')).toBe(true);
      const account = json(await gw.app.inject({ method: 'GET', url: '/v1/account', headers }));
      expect(account).toMatchObject({ balance: 0, held: maxCost * 10 });
      for (const a of answers.filter((x) => x.statusCode === 202)) {
        await gw.app.inject({ method: 'DELETE', url: `/v1/jobs/${json(a).id}`, headers });
      }
      expect(json(await gw.app.inject({ method: 'GET', url: '/v1/account', headers }))).toMatchObject({ balance: maxCost * 10, held: 0 });
    } finally {
      await idle();
      await gw.close();
    }
  });
});

describe('jobs under faults', () => {
  it('cancels a queued job at once and releases its hold in full; a full queue answers 503', async () => {
    // No worker consumes here, so jobs stay queued.
    const idle = await idleWorkerHeartbeat(t);
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const job = json(await submitAsync(headers, 'never runs'));
    expect(job.status).toBe('queued');
    expect(await balance(headers)).toMatchObject({ held: Number(job.max_cost), balance: 1_000_000 - Number(job.max_cost) });
    const cancel = await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}`, headers });
    expect(cancel.statusCode).toBe(200);
    expect(json(cancel)).toMatchObject({ status: 'cancelled', cost: 0 });
    expect(await balance(headers)).toMatchObject({ held: 0, balance: 1_000_000 });
    expect(await settleCount(await holdOf(job.id))).toBe(1);

    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await submitAsync(headers, `fill ${i}`)).statusCode);
    expect(codes.slice(0, 3)).toEqual([202, 202, 202]);
    const full = await submitAsync(headers, 'one too many');
    expect(full.statusCode).toBe(503);
    expect(full.headers['retry-after']).toBe('5');
    for (const j of json(await t.app.inject({ method: 'GET', url: '/v1/jobs', headers })).data) {
      if (j.status === 'queued') await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${j.id}`, headers });
    }
    await idle();
  });

  it('loses nothing when Redis is flushed: the worker re-enqueues committed jobs from Postgres', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const idle = await idleWorkerHeartbeat(t);
    const job = json(await submitAsync(headers, 'survive a flush', 4));
    await idle();
    const keys = await t.redis!.keys(`${t.config.redisPrefix}:bull:*`);
    expect(keys.length).toBeGreaterThan(0);
    await t.redis!.del(...keys);
    workers.push(await startWorker(t));
    const done = await eventually(async () => {
      const j = await getJob(headers, job.id);
      return j.status === 'succeeded' ? j : null;
    });
    expect(done.usage.output_tokens).toBe(4);
    expect(await balance(headers)).toMatchObject({ held: 0, balance: 1_000_000 - done.cost });
  });

  it('a running job is told to stop, and a job cancelled before compute costs nothing', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    workers.push(await startWorker(t, { POSTHUMAN_FAULT_START_DELAY_MS: '1500' }));
    const job = json(await submitAsync(headers, 'stop me'));
    await eventually(async () => (await getJob(headers, job.id)).status === 'running');
    const cancel = await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}`, headers });
    expect(cancel.statusCode).toBe(202);
    expect(json(cancel).cancel_requested).toBe(true);
    const done = await eventually(async () => {
      const j = await getJob(headers, job.id);
      return j.status !== 'running' ? j : null;
    });
    expect(done).toMatchObject({ status: 'cancelled', cost: 0 });
    expect(await balance(headers)).toMatchObject({ held: 0, balance: 1_000_000 });
  });

  it('a worker killed mid-job: the job runs again on another worker and is charged once', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const fast = { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' };
    const doomed = await startWorker(t, { ...fast, WORKER_ID: 'doomed', POSTHUMAN_FAULT_START_DELAY_MS: '60000' });
    workers.push(doomed);
    const job = json(await submitAsync(headers, 'killed mid-job', 6));
    await eventually(async () => {
      const j = await getJob(headers, job.id);
      return j.status === 'running' && j.attempts === 1;
    });
    doomed.child.kill('SIGKILL');
    await doomed.exited();
    workers.push(await startWorker(t, { ...fast, WORKER_ID: 'survivor' }));
    const done = await eventually(async () => {
      const j = await getJob(headers, job.id);
      return j.status === 'succeeded' ? j : null;
    }, 60_000);
    expect(done.attempts).toBe(2);
    expect(await settleCount(await holdOf(job.id))).toBe(1);
    expect(await balance(headers)).toMatchObject({ held: 0, balance: 1_000_000 - done.cost });
    const worker = (await t.app.db.execute(sql`SELECT worker_id FROM jobs WHERE id = ${job.id}`)) as unknown as {
      rows: { worker_id: string }[];
    };
    expect(worker.rows[0].worker_id).toBe('survivor');
  });
});

describe('embedded default: one process, no Redis', () => {
  it('runs jobs in-process through the same catalog and handlers', async () => {
    const embedded = await createTestApp({ REDIS_URL: '' }, t.testDb);
    try {
      expect(embedded.config.worker.inProcess).toBe(true);
      const { headers } = await createFundedAccount(embedded, { credits: 1_000_000 });
      const res = await embedded.app.inject({
        method: 'POST',
        url: '/v1/infer',
        headers,
        payload: { model: 'tiny-gpt2', input: 'in process', parameters: { max_new_tokens: 3 } },
      });
      expect(res.statusCode).toBe(200);
      expect(json(res)).toMatchObject({ status: 'succeeded', usage: { output_tokens: 3 } });
    } finally {
      await embedded.close();
    }
  });
});
