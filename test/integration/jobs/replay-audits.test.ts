// Replay audits catch a worker that serves other weights under a model's id.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyModel } from '../../../src/runtime/index.js';
import type { RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually, idleWorkerHeartbeat, startWorker, stopWorker } from '../../helpers/worker-process.js';

let t: TestApp;
let cheatDir: string;
const workers: RunningProcess[] = [];
beforeAll(async () => {
  t = await createTestApp();
  await registerTinyModel(t);
  cheatDir = join(mkdtempSync(join(tmpdir(), 'posthuman-cheat-')), 'other-weights');
  await buildTinyModel(cheatDir, { seed: 7 });
});
afterEach(async () => {
  for (const w of workers.splice(0)) await stopWorker(w);
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const json = (res: { body: string }) => JSON.parse(res.body);
const infer = (headers: Record<string, string>, input: string) =>
  t.app.inject({ method: 'POST', url: '/v1/infer', headers, payload: { model: 'tiny-gpt2', input, parameters: { max_new_tokens: 12 } } });
const audit = (jobId: string) =>
  t.app.inject({ method: 'POST', url: '/v1/admin/audits', headers: t.operatorHeaders, payload: { job_id: jobId } });
const finalAudit = (id: string) =>
  eventually(async () => {
    const a = json(await t.app.inject({ method: 'GET', url: `/v1/admin/audits/${id}`, headers: t.operatorHeaders }));
    return ['passed', 'mismatch', 'error'].includes(a.status) ? a : null;
  }, 60_000);

describe('replay audits', () => {
  it('catch a worker serving different weights under the same model id, and mark job, model and worker', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    workers.push(await startWorker(t, { WORKER_ID: 'cheater', POSTHUMAN_FAULT_SERVE_MODEL_DIR: cheatDir }));
    const job = json(await infer(headers, 'Who served this?'));
    expect(job.status).toBe('succeeded');
    await stopWorker(workers.pop());
    workers.push(await startWorker(t, { WORKER_ID: 'honest' }));

    const requested = await audit(job.id);
    expect(requested.statusCode).toBe(202);
    const done = await finalAudit(json(requested).id);
    expect(done).toMatchObject({ status: 'mismatch', original_worker_id: 'cheater', replay_worker_id: 'honest', reason: 'operator' });
    expect(done.original_output_sha256).not.toBe(done.replay_output_sha256);

    expect(json(await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers })).audit).toMatchObject({ status: 'mismatch' });
    const model = (await t.app.db.execute(sql`SELECT audit_mismatches FROM models WHERE id = 'tiny-gpt2'`)) as unknown as {
      rows: { audit_mismatches: number }[];
    };
    expect(model.rows[0].audit_mismatches).toBe(1);
    const flagged = (await t.app.db.execute(sql`SELECT worker_id, mismatches FROM flagged_workers`)) as unknown as {
      rows: { worker_id: string; mismatches: number }[];
    };
    expect(flagged.rows).toEqual([{ worker_id: 'cheater', mismatches: 1 }]);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.operatorHeaders });
    expect(metrics.body).toMatch(/posthuman_audits\{status="mismatch"\} 1/);
  });

  it('sampled audits of honest workers pass, each replayed on the other worker', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    workers.push(await startWorker(t, { WORKER_ID: 'honest-b', AUDIT_FRACTION: '1' }));
    workers.push(await startWorker(t, { WORKER_ID: 'honest-c', AUDIT_FRACTION: '1' }));
    const jobs = await Promise.all(['one', 'two', 'three'].map(async (input) => json(await infer(headers, input))));
    const audits = await Promise.all(
      jobs.map((j) =>
        eventually(async () => {
          const a = json(await t.app.inject({ method: 'GET', url: `/v1/jobs/${j.id}`, headers })).audit;
          return a && ['passed', 'mismatch', 'error'].includes(a.status) ? a : null;
        }, 60_000),
      ),
    );
    expect(audits.map((a) => a.status)).toEqual(['passed', 'passed', 'passed']);
    for (const [i, j] of jobs.entries()) {
      const ran = (await t.app.db.execute(sql`SELECT worker_id FROM jobs WHERE id = ${j.id}`)) as unknown as {
        rows: { worker_id: string }[];
      };
      expect(['honest-b', 'honest-c']).toContain(ran.rows[0].worker_id);
      expect(['honest-b', 'honest-c']).toContain(audits[i].replay_worker_id);
      expect(audits[i].replay_worker_id).not.toBe(ran.rows[0].worker_id);
    }
  });

  it('refuses to audit unknown or unfinished jobs, and needs the operator token', async () => {
    expect((await audit('00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const idle = await idleWorkerHeartbeat(t);
    const queued = json(
      await t.app.inject({
        method: 'POST',
        url: '/v1/infer',
        headers: { ...headers, prefer: 'respond-async' },
        payload: { model: 'tiny-gpt2', input: 'queued' },
      }),
    );
    expect((await audit(queued.id)).statusCode).toBe(409);
    await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${queued.id}`, headers });
    await idle();
    const anon = await t.app.inject({ method: 'POST', url: '/v1/admin/audits', payload: { job_id: queued.id } });
    expect(anon.statusCode).toBe(401);
  });
});
