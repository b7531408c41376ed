// The catalog counts each model's use: succeeded jobs and their tokens, never who ran them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { startWorker, stopWorker } from '../../helpers/worker-process.js';

let t: TestApp;
let worker: RunningProcess;
beforeAll(async () => {
  t = await createTestApp();
  await registerTinyModel(t, 'used-model');
  await registerTinyModel(t, 'idle-model');
  worker = await startWorker(t, { BATCH_WAIT_MS: '20' });
});
afterAll(async () => {
  await stopWorker(worker);
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

type Usage = { jobs: number; tokens: number; last_30_days: { jobs: number; tokens: number } };
type ModelOut = { id: string; usage: Usage };

async function usageOf(id: string) {
  const list = await t.app.inject({ method: 'GET', url: '/v1/models' });
  const one = await t.app.inject({ method: 'GET', url: `/v1/models/${id}` });
  expect([list.statusCode, one.statusCode]).toEqual([200, 200]);
  const listed = (list.json() as { data: ModelOut[] }).data.find((m) => m.id === id);
  expect(listed?.usage).toEqual((one.json() as ModelOut).usage);
  return { usage: listed!.usage, bodies: list.body + one.body };
}

describe('model usage in the catalog', () => {
  it('counts succeeded inferences and evaluations with their tokens, per model, and no one who ran them', async () => {
    const zero = { jobs: 0, tokens: 0, last_30_days: { jobs: 0, tokens: 0 } };
    expect((await usageOf('used-model')).usage).toEqual(zero);

    const { headers, account } = await createFundedAccount(t, { credits: 10_000_000 });
    const inferred = await t.app.inject({
      method: 'POST',
      url: '/v1/infer',
      headers,
      payload: { model: 'used-model', input: 'The economy', parameters: { max_new_tokens: 5 } },
    });
    expect(inferred.statusCode).toBe(200);
    const job = inferred.json() as { usage: { input_tokens: number; output_tokens: number } };
    const evaluated = await t.app.inject({
      method: 'POST',
      url: '/v1/evaluate',
      headers,
      payload: { model: 'used-model', texts: ['Families work hard.'] },
    });
    expect(evaluated.statusCode).toBe(200);
    const evaluation = evaluated.json() as { usage: { input_tokens: number; output_tokens?: number } };
    // A request the API refuses never becomes a job, so it counts nothing.
    const refused = await t.app.inject({ method: 'POST', url: '/v1/infer', headers, payload: { model: 'used-model', input: '' } });
    expect(refused.statusCode).toBe(400);

    const tokens =
      job.usage.input_tokens + job.usage.output_tokens + evaluation.usage.input_tokens + (evaluation.usage.output_tokens ?? 0);
    expect(tokens).toBeGreaterThan(0);
    const { usage, bodies } = await usageOf('used-model');
    expect(usage).toEqual({ jobs: 2, tokens, last_30_days: { jobs: 2, tokens } });
    expect(bodies).not.toContain(account.id);
    expect((await usageOf('idle-model')).usage).toEqual(zero);
  });
});
