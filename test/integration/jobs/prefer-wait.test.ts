// Prefer: wait=N and respond-async on the native job routes, with Preference-Applied echoed. Every
// job starts 2 s after it is claimed (fault injection), so a short wait meets an unfinished job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
let headers: Record<string, string>;
beforeAll(async () => {
  // Without a preference the answer would wait SYNC_TIMEOUT_MS, past this file's test timeout.
  t = await createTestApp({ WORKER_IN_PROCESS: 'true', POSTHUMAN_FAULT_START_DELAY_MS: '2000', SYNC_TIMEOUT_MS: '120000' });
  await registerTinyModel(t);
  headers = (await createFundedAccount(t, { credits: 5_000_000 })).headers;
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const infer = (prefer: string) =>
  t.app.inject({ method: 'POST', url: '/v1/infer', headers: { ...headers, prefer }, payload: { model: 'tiny-gpt2', input: 'Prefer', parameters: { max_new_tokens: 4 } } });

describe('Prefer on POST /v1/infer', () => {
  it('wait=N gives up after N seconds with a 202 for the unfinished job', async () => {
    const res = await infer('wait=1');
    expect(res.statusCode).toBe(202);
    expect(res.headers['preference-applied']).toBe('wait=1');
    expect(res.json().status).toMatch(/^(queued|running)$/);
  });

  it('wait=N long enough answers the finished job; respond-async answers at once', async () => {
    const done = await infer('wait=60');
    expect(done.statusCode).toBe(200);
    expect(done.headers['preference-applied']).toBe('wait=60');
    expect(done.json()).toMatchObject({ status: 'succeeded', usage: { output_tokens: 4 } });
    const queued = await infer('respond-async');
    expect(queued.statusCode).toBe(202);
    expect(queued.headers['preference-applied']).toBe('respond-async');
    const both = await infer('respond-async, wait=1');
    expect(both.statusCode).toBe(202);
    expect(both.headers['preference-applied']).toBe('respond-async, wait=1');
    // Not left for the worker to run (each waits 2 s) while the app closes.
    for (const res of [queued, both]) await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${res.json().id}`, headers });
  });
});
