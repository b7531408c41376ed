// Webhooks end to end: jobs run by the in-process worker, events written by the jobs trigger, the
// gateway's sweeper delivering them to a real HTTP receiver on a loopback port, which verifies each
// message with the `standardwebhooks` package. Retries, the dead letter, replay, secret rotation,
// fine-tune progress and another account's view.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually } from '../../helpers/worker-process.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let t: TestApp;
let receiver: Server;
let base: string;
const received: Received[] = [];
/** Paths answered with this status instead of 204. */
const failing = new Map<string, number>();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(failing.get(req.url ?? '') ?? 204).end(failing.has(req.url ?? '') ? 'not now' : undefined);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  t = await createTestApp({
    WORKER_IN_PROCESS: 'true',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_SWEEP_INTERVAL_MS: '100',
    WEBHOOK_RETRY_BASE_MS: '100',
    WEBHOOK_MAX_ATTEMPTS: '3',
  });
  await registerTinyModel(t);
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
  await new Promise((resolve) => receiver.close(resolve));
});

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: object) =>
  t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
const infer = async (headers: Record<string, string>) =>
  (await api('POST', '/v1/infer', headers, { model: 'tiny-gpt2', input: 'Webhooks', parameters: { max_new_tokens: 3 } })).json() as { id: string; status: string };
const at = (path: string) => received.filter((r) => r.path === path);
const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, unknown> };

async function register(headers: Record<string, string>, path: string, eventTypes?: string[]) {
  const res = await api('POST', '/v1/webhooks', headers, { url: `${base}${path}`, ...(eventTypes ? { event_types: eventTypes } : {}) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; secret: string };
}

describe('webhooks', () => {
  it('delivers job.succeeded signed per Standard Webhooks, with the job and its receipt, and records the attempt', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const endpoint = await register(headers, '/ok', ['job.succeeded', 'job.failed']);
    expect(endpoint.secret).toMatch(/^whsec_/);
    const job = await infer(headers);
    expect(job.status).toBe('succeeded');
    const [message] = await eventually(async () => at('/ok').length > 0 && at('/ok'));
    const event = verify(endpoint.secret, message);
    expect(event.type).toBe('job.succeeded');
    expect(event.data).toMatchObject({ id: job.id, object: 'job', status: 'succeeded', usage: { output_tokens: 3 } });
    expect((event.data.receipt as { jws: string }).jws.split('.')).toHaveLength(3);
    expect(message.headers['webhook-id']).toMatch(/^msg_/);
    expect(() => verify(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, message)).toThrow();
    // The receiver answers before the sender records the attempt: read the delivery once it is recorded.
    const deliveries = await eventually(async () => {
      const page = (await api('GET', `/v1/webhooks/${endpoint.id}/deliveries`, headers)).json();
      return page.data[0]?.status === 'succeeded' ? page : null;
    });
    expect(deliveries.data).toHaveLength(1);
    expect(deliveries.data[0]).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 204, event: { type: 'job.succeeded', job_id: job.id, id: message.headers['webhook-id'] } });
    const one = (await api('GET', `/v1/webhooks/${endpoint.id}/deliveries/${deliveries.data[0].id}`, headers)).json();
    expect(one.attempt_log).toEqual([expect.objectContaining({ status_code: 204, error: null })]);
  });

  it('retries with backoff, gives up into a visible dead letter, and a replay delivers the same message', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    failing.set('/down', 503);
    const endpoint = await register(headers, '/down');
    const job = await infer(headers);
    const dead = await eventually(async () => {
      const page = (await api('GET', `/v1/webhooks/${endpoint.id}/deliveries?status=dead`, headers)).json();
      return page.data[0];
    });
    expect(dead).toMatchObject({ status: 'dead', attempts: 3, last_status_code: 503, event: { job_id: job.id } });
    const detail = (await api('GET', `/v1/webhooks/${endpoint.id}/deliveries/${dead.id}`, headers)).json();
    expect(detail.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([503, 503, 503]);
    expect(detail.attempt_log[0].response_body).toBe('not now');
    expect(new Set(at('/down').map((r) => r.headers['webhook-id']))).toEqual(new Set([dead.event.id]));
    // Still pending is refused; once the endpoint is back, a replay delivers it.
    failing.delete('/down');
    const replay = await api('POST', `/v1/webhooks/${endpoint.id}/deliveries/${dead.id}/replay`, headers, {});
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await api('POST', `/v1/webhooks/${endpoint.id}/deliveries/${dead.id}/replay`, headers, {})).statusCode).toBe(409);
    const delivered = await eventually(async () => {
      const d = (await api('GET', `/v1/webhooks/${endpoint.id}/deliveries/${dead.id}`, headers)).json();
      return d.status === 'succeeded' && d;
    });
    expect(delivered.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([503, 503, 503, 204]);
    expect(verify(endpoint.secret, at('/down').at(-1)!).data.id).toBe(job.id);
  });

  it('rotates the secret: both secrets verify during the grace period, only the new one after it', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const endpoint = await register(headers, '/rotate', ['job.succeeded']);
    const rotated = (await api('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, headers, { grace_seconds: 600 })).json();
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(rotated.previous_secret_expires_at).not.toBeNull();
    await infer(headers);
    const first = (await eventually(async () => at('/rotate').length > 0 && at('/rotate')))[0];
    expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(endpoint.secret, first).type).toBe('job.succeeded');
    expect(verify(rotated.secret, first).type).toBe('job.succeeded');
    const again = (await api('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`, headers, { grace_seconds: 0 })).json();
    await infer(headers);
    const second = (await eventually(async () => at('/rotate').length > 1 && at('/rotate')))[1];
    expect(verify(again.secret, second).type).toBe('job.succeeded');
    expect(() => verify(rotated.secret, second)).toThrow();
  });

  it('sends fine-tune progress, and keeps endpoints and deliveries to their account', async () => {
    const owner = await createFundedAccount(t, { credits: 50_000_000, scopes: ['finetune', 'keys'] });
    const endpoint = await register(owner.headers, '/progress', ['finetune.progress', 'job.succeeded']);
    const res = await api('POST', '/v1/finetune', owner.headers, {
      model: 'tiny-gpt2',
      name: 'webhook-tuned',
      datasets: [{ text: 'The lighthouse keeper counts the ships that pass the cape. '.repeat(20) }],
      hyperparameters: { steps: 2, batch_size: 1 },
    });
    expect(res.statusCode, res.body).toBe(202);
    const jobId = res.json().id;
    const events = await eventually(async () => {
      const all = at('/progress').map((r) => verify(endpoint.secret, r));
      return all.some((e) => e.type === 'job.succeeded') && all;
    }, 120_000);
    const steps = events.filter((e) => e.type === 'finetune.progress').map((e) => (e.data.progress as { step: number }).step);
    expect(steps.length).toBeGreaterThan(0);
    expect(events.every((e) => e.data.id === jobId)).toBe(true);
    const stranger = await createFundedAccount(t, { credits: 1 });
    expect((await api('GET', `/v1/webhooks/${endpoint.id}`, stranger.headers)).statusCode).toBe(404);
    expect((await api('GET', `/v1/webhooks/${endpoint.id}/deliveries`, stranger.headers)).statusCode).toBe(404);
    expect((await api('GET', '/v1/webhooks', stranger.headers)).json().data).toEqual([]);
    // PATCH: an empty object changes nothing (200, the endpoint as it was); a field changes only itself;
    // someone else's endpoint is a 404 either way.
    const before = (await api('GET', `/v1/webhooks/${endpoint.id}`, owner.headers)).json();
    const untouched = await api('PATCH', `/v1/webhooks/${endpoint.id}`, owner.headers, {});
    expect(untouched.statusCode, untouched.body).toBe(200);
    expect(untouched.json()).toEqual(before);
    const noted = await api('PATCH', `/v1/webhooks/${endpoint.id}`, owner.headers, { description: 'progress feed' });
    expect(noted.statusCode, noted.body).toBe(200);
    expect(noted.json()).toEqual({ ...before, description: 'progress feed' });
    expect((await api('PATCH', `/v1/webhooks/${endpoint.id}`, stranger.headers, {})).statusCode).toBe(404);
    expect((await api('PATCH', `/v1/webhooks/${endpoint.id}`, stranger.headers, { enabled: false })).statusCode).toBe(404);
    const inferOnly = await createFundedAccount(t, { credits: 1, scopes: ['infer'] });
    expect((await api('GET', '/v1/webhooks', inferOnly.headers)).statusCode).toBe(403);
    expect((await api('DELETE', `/v1/webhooks/${endpoint.id}`, owner.headers)).statusCode).toBe(204);
    expect((await api('GET', `/v1/webhooks/${endpoint.id}`, owner.headers)).statusCode).toBe(404);
  });
});
