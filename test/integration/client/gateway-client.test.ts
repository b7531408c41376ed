// The typed client (src/client) against the gateway on a loopback port: typed calls, job streams
// as events, receipt verification with the standalone verifier, problems as GatewayError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient, GatewayError, type Job, type JobEvent, unwrap } from '../../../src/client/index.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
let client: ReturnType<typeof createGatewayClient>;
beforeAll(async () => {
  t = await createTestApp({ WORKER_IN_PROCESS: 'true', BATCH_WAIT_MS: '20' });
  await registerTinyModel(t);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { key } = await createFundedAccount(t, { credits: 5_000_000 });
  client = createGatewayClient({ baseUrl: `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`, apiKey: key.key });
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const collect = async (events: AsyncGenerator<JobEvent>) => {
  const out: JobEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
};

describe('the typed client', () => {
  it('runs a job and verifies its receipt: signature, attestation and inclusion in the log', async () => {
    const account = unwrap(await client.api.GET('/v1/account'));
    expect(account.balance).toBe(5_000_000);
    const job = await client.infer({ model: 'tiny-gpt2', input: 'The quick brown fox', parameters: { max_new_tokens: 6 } });
    expect(job).toMatchObject({ status: 'succeeded', usage: { output_tokens: 6 } });
    const verified = await client.verifyReceipt(job.receipt!.jws);
    expect(verified.ok).toBe(true);
    expect(verified.checks.map((c) => c.check)).toEqual(['signature', 'attestation', 'inclusion']);
    expect(verified.receipt?.job_id).toBe(job.id);
    const [header, payload, signature] = job.receipt!.jws.split('.');
    const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const refused = await client.verifyReceipt(forged);
    expect(refused.ok).toBe(false);
    expect(refused.checks.find((c) => c.check === 'signature')?.ok).toBe(false);
  });

  it('streams a job as typed events ending with the whole job, and follows one started async', async () => {
    const events = await collect(client.inferStream({ model: 'tiny-gpt2', input: 'Once upon a time', parameters: { max_new_tokens: 5 } }));
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    if (done.event !== 'done') throw new Error('unreachable');
    const tokens = events.flatMap((e) => (e.event === 'token' ? [e.data.text] : []));
    expect(tokens.join('')).toBe(done.data.output);
    expect(done.data.receipt?.jws.split('.')).toHaveLength(3);
    const queued = unwrap(
      await client.api.POST('/v1/infer', { params: { header: { prefer: 'respond-async' } }, body: { model: 'tiny-gpt2', input: 'Later', parameters: { max_new_tokens: 3 } } }),
    ) as Job;
    expect(queued.status).not.toBe('succeeded');
    const followed = await collect(client.followJob(queued.id));
    expect(followed.at(-1)).toMatchObject({ event: 'done', data: { id: queued.id, status: 'succeeded' } });
  });

  it('throws a GatewayError holding the problem for an error answer', async () => {
    const error = await collect(client.inferStream({ model: 'no-such-model', input: 'x' })).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 404, problem: { code: 'not_found', field: 'body.model' } });
    expect(() => unwrap({ error: { code: 'x' }, response: new Response(null, { status: 409 }) })).toThrow(GatewayError);
  });
});
