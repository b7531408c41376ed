// The job path end to end: gateway → Postgres → BullMQ on Redis → a real worker process → ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { jobCost } from '../../../src/jobs/job-pricing.js';
import { verifyReceiptInclusion, verifyReceiptSignature, verifyTreeHead } from '../../../src/receipts/index.js';
import { DEFAULT_MODEL_PRICES } from '../../../src/models/model-registration.js';
import type { RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually, startWorker, stopWorker } from '../../helpers/worker-process.js';

let t: TestApp;
let worker: RunningProcess;
let weightsSha256: string;
beforeAll(async () => {
  t = await createTestApp();
  weightsSha256 = (await registerTinyModel(t)).weightsSha256;
  worker = await startWorker(t, { BATCH_WAIT_MS: '20' });
});
afterAll(async () => {
  await stopWorker(worker);
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const json = (res: { body: string }) => JSON.parse(res.body);
const infer = (headers: Record<string, string>, payload: object, extra: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/v1/infer', headers: { ...headers, ...extra }, payload });

describe('POST /v1/infer', () => {
  it('answers with output, usage and the exact cost, captured from the hold', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const res = await infer(headers, { model: 'tiny-gpt2', input: 'The quick brown fox', parameters: { max_new_tokens: 12 } });
    expect(res.statusCode).toBe(200);
    const job = json(res);
    expect(job).toMatchObject({ object: 'job', kind: 'infer', status: 'succeeded', model: 'tiny-gpt2', weights_sha256: weightsSha256 });
    expect(typeof job.output).toBe('string');
    expect(job.usage.input_tokens).toBe(4);
    expect(job.usage.output_tokens).toBeGreaterThan(0);
    expect(job.usage.output_tokens).toBeLessThanOrEqual(12);
    const expected = jobCost(DEFAULT_MODEL_PRICES, job.usage.input_tokens + job.usage.output_tokens);
    expect(BigInt(job.cost)).toBe(expected);
    expect(BigInt(job.max_cost)).toBe(jobCost(DEFAULT_MODEL_PRICES, 4 + 12));
    const account = json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }));
    expect(account).toMatchObject({ balance: 1_000_000 - Number(expected), held: 0 });
    const again = json(await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers }));
    expect(again).toMatchObject({ id: job.id, status: 'succeeded', output: job.output, cost: job.cost });
  });

  it('is deterministic: same model, input, parameters and seed give the same bytes', async () => {
    const { headers } = await createFundedAccount(t, { credits: 10_000_000 });
    for (const parameters of [
      { max_new_tokens: 16 },
      { max_new_tokens: 16, temperature: 0.9, top_k: 40, top_p: 0.95, seed: 1234 },
    ]) {
      const a = json(await infer(headers, { model: 'tiny-gpt2', input: 'Once upon a time', parameters }));
      const b = json(await infer(headers, { model: 'tiny-gpt2', input: 'Once upon a time', parameters }));
      expect(a.status).toBe('succeeded');
      expect(a.id).not.toBe(b.id);
      expect(Buffer.from(b.output).equals(Buffer.from(a.output))).toBe(true);
    }
  });

  it('batches concurrent requests without changing any answer', async () => {
    const { headers } = await createFundedAccount(t, { credits: 50_000_000 });
    const prompts = ['Hello', 'A much longer prompt about the sea and the', 'One two three', 'Posthuman gateway', 'x', 'The cat'];
    const params = (i: number) => (i % 2 ? { max_new_tokens: 10, temperature: 0.8, seed: i } : { max_new_tokens: 10 });
    const alone = [];
    for (const [i, input] of prompts.entries()) alone.push(json(await infer(headers, { model: 'tiny-gpt2', input, parameters: params(i) })).output);
    const together = await Promise.all(prompts.map((input, i) => infer(headers, { model: 'tiny-gpt2', input, parameters: params(i) })));
    expect(together.map((r) => json(r).output)).toEqual(alone);
  });

  it('honours stop sequences and Prefer: respond-async', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const free = json(await infer(headers, { model: 'tiny-gpt2', input: 'Stop test', parameters: { max_new_tokens: 20 } }));
    const stopAt = free.output.slice(3, 6);
    if (stopAt.length === 3) {
      const stopped = json(await infer(headers, { model: 'tiny-gpt2', input: 'Stop test', parameters: { max_new_tokens: 20, stop: [stopAt] } }));
      expect(stopped.finish_reason).toBe('stop');
      expect(stopped.output).toBe(free.output.slice(0, free.output.indexOf(stopAt)));
    }
    const queued = await infer(headers, { model: 'tiny-gpt2', input: 'async please' }, { prefer: 'respond-async' });
    expect(queued.statusCode).toBe(202);
    expect(queued.headers.location).toBe(`/v1/jobs/${json(queued).id}`);
    const done = await eventually(async () => {
      const j = json(await t.app.inject({ method: 'GET', url: `/v1/jobs/${json(queued).id}`, headers }));
      return j.status === 'succeeded' ? j : null;
    });
    expect(done.output.length).toBeGreaterThanOrEqual(0);
    expect(done.usage.output_tokens).toBe(32);
  });

  it('streams one SSE event per token, the last event carrying usage, cost and the job', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const res = await infer(headers, { model: 'tiny-gpt2', input: 'Stream me', parameters: { max_new_tokens: 8 }, stream: true });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    const events = res.body
      .split('\n\n')
      .filter((b) => b.startsWith('event:'))
      .map((b) => ({ event: /^event: (\w+)/.exec(b)![1], data: JSON.parse(b.slice(b.indexOf('data: ') + 6)) }));
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data).toMatchObject({ status: 'succeeded', usage: { output_tokens: 8 } });
    // The job is named before any event, so a client cut off mid-stream can find it again.
    expect(res.headers['x-job-id']).toBe(done.data.id);
    expect(res.headers['content-location']).toBe(`/v1/jobs/${done.data.id}`);
    expect(done.data.cost).toBeGreaterThan(0);
    const tokens = events.filter((e) => e.event === 'token');
    expect(tokens.map((e) => e.data.index)).toEqual(tokens.map((_, i) => i));
    expect(tokens.map((e) => e.data.text).join('')).toBe(done.data.output);
  });

  it('follows an async job as SSE at /v1/jobs/{id}/events (owner only)', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const job = json(await infer(headers, { model: 'tiny-gpt2', input: 'follow me', parameters: { max_new_tokens: 6 } }, { prefer: 'respond-async' }));
    const res = await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events`, headers });
    expect(res.headers['content-type']).toContain('text/event-stream');
    const blocks = res.body.split('\n\n').filter((b) => b.startsWith('event:'));
    const done = JSON.parse(blocks.at(-1)!.slice(blocks.at(-1)!.indexOf('data: ') + 6));
    expect(blocks.at(-1)!.startsWith('event: done')).toBe(true);
    expect(done).toMatchObject({ id: job.id, status: 'succeeded', usage: { output_tokens: 6 } });
    expect(done.receipt.jws.split('.')).toHaveLength(3);
    const stranger = await createFundedAccount(t);
    expect((await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/events`, headers: stranger.headers })).statusCode).toBe(404);
  });

  it('replays an Idempotency-Key: same job, charged once; another body is a 422', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const body = { model: 'tiny-gpt2', input: 'idempotent', parameters: { max_new_tokens: 5 } };
    const first = json(await infer(headers, body, { 'idempotency-key': 'req-1' }));
    const second = await infer(headers, body, { 'idempotency-key': 'req-1' });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(json(second).id).toBe(first.id);
    const account = json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }));
    expect(account.balance).toBe(1_000_000 - first.cost);
    const other = await infer(headers, { ...body, input: 'different' }, { 'idempotency-key': 'req-1' });
    expect(other.statusCode).toBe(422);
  });

  it('402s when the balance cannot cover the maximum cost, creating no job', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_005 });
    const res = await infer(headers, { model: 'tiny-gpt2', input: 'too expensive', parameters: { max_new_tokens: 100 } });
    expect(res.statusCode).toBe(402);
    expect(json(res).code).toBe('insufficient_credit');
    const list = json(await t.app.inject({ method: 'GET', url: '/v1/jobs', headers }));
    expect(list.data).toEqual([]);
  });

  it('400s naming the field for bad parameters and over-long input; 404 unknown model; 409 wrong pinned weights', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const bad = await infer(headers, { model: 'tiny-gpt2', input: 'x', parameters: { temperature: -1 } });
    expect(json(bad)).toMatchObject({ status: 400, field: 'body.parameters.temperature' });
    const long = await infer(headers, { model: 'tiny-gpt2', input: 'word '.repeat(200) });
    expect(json(long)).toMatchObject({ status: 400, field: 'body.input' });
    expect(json(long).detail).toContain('context of 128 tokens');
    const room = await infer(headers, { model: 'tiny-gpt2', input: 'hi', parameters: { max_new_tokens: 500 } });
    expect(json(room)).toMatchObject({ status: 400, field: 'body.parameters.max_new_tokens' });
    expect((await infer(headers, { model: 'nope', input: 'x' })).statusCode).toBe(404);
    const pinned = await infer(headers, { model: 'tiny-gpt2', model_sha256: '0'.repeat(64), input: 'x' });
    expect(pinned.statusCode).toBe(409);
    const ok = await infer(headers, { model: 'tiny-gpt2', model_sha256: weightsSha256, input: 'x', parameters: { max_new_tokens: 1 } });
    expect(ok.statusCode).toBe(200);
  });

  it('needs the infer scope, and hides other accounts jobs (404)', async () => {
    const evalOnly = await createFundedAccount(t, { credits: 1_000_000, scopes: ['evaluate'] });
    expect((await infer(evalOnly.headers, { model: 'tiny-gpt2', input: 'x' })).statusCode).toBe(403);
    const a = await createFundedAccount(t, { credits: 1_000_000 });
    const b = await createFundedAccount(t, { credits: 1_000_000 });
    const job = json(await infer(a.headers, { model: 'tiny-gpt2', input: 'mine', parameters: { max_new_tokens: 2 } }));
    expect((await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: b.headers })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}`, headers: b.headers })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}`, headers: a.headers })).statusCode).toBe(409);
  });
});

describe('receipts', () => {
  it('every succeeded job carries a verifiable receipt; rotating the key keeps old receipts valid', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const job = json(await infer(headers, { model: 'tiny-gpt2', input: 'sign me', parameters: { max_new_tokens: 3 } }));
    expect(job.receipt.jws.split('.')).toHaveLength(3);
    const before = json(await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }));
    expect((await verifyReceiptSignature(job.receipt.jws, before)).ok).toBe(true);
    const oldKid = decodeProtectedHeader(job.receipt.jws).kid;

    const rotated = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: t.operatorHeaders, payload: {} });
    expect(rotated.statusCode).toBe(200);
    const { kid, jwks } = json(rotated);
    expect(kid).not.toBe(oldKid);
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([oldKid, kid]));
    expect((await verifyReceiptSignature(job.receipt.jws, jwks)).ok).toBe(true);
    const head = json(await t.app.inject({ method: 'GET', url: '/v1/log/tree-head' }));
    expect(decodeProtectedHeader(head.signature).kid).toBe(kid);
    expect((await verifyTreeHead(head, jwks)).ok).toBe(true);
    const proof = json(await t.app.inject({ method: 'GET', url: `/v1/log/proof/inclusion?receipt=${job.receipt.id}` }));
    expect((await verifyReceiptInclusion(job.receipt.jws, proof, jwks)).ok).toBe(true);
  });
});

describe('models', () => {
  it('lists models with their weights hash and prices, never their weights or storage path', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/v1/models' });
    expect(list.statusCode).toBe(200);
    const model = json(list).data.find((m: { id: string }) => m.id === 'tiny-gpt2');
    expect(model).toMatchObject({ weights_sha256: weightsSha256, context_length: 128, pricing: { per_job: 1000, per_1k_tokens: 2000 } });
    expect(list.body).not.toContain(t.config.dataDir);
    expect(json(await t.app.inject({ method: 'GET', url: '/v1/models/tiny-gpt2' })).id).toBe('tiny-gpt2');
    expect((await t.app.inject({ method: 'GET', url: '/v1/models/missing' })).statusCode).toBe(404);
  });

  it('fails a job whose stored weights no longer match the registered hash, charging nothing', async () => {
    const { readdirSync, mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { buildTinyModel } = await import('../../../src/runtime/index.js');
    const { registerModel } = await import('../../../src/models/model-registration.js');
    const dir = mkdtempSync(join(t.config.dataDir, 'seed7-'));
    await buildTinyModel(dir, { seed: 7 });
    const row = await registerModel(t.app.db, t.config.dataDir, { id: 'tampered', sourceDir: dir, ...DEFAULT_MODEL_PRICES });
    const onnx = join(row.storagePath, 'onnx', readdirSync(join(row.storagePath, 'onnx'))[0]);
    const bytes = readFileSync(onnx);
    bytes[bytes.length - 10] ^= 0xff; // a swapped weight, same size
    writeFileSync(onnx, bytes);
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const res = await infer(headers, { model: 'tampered', input: 'hello', parameters: { max_new_tokens: 4 } });
    const job = json(res);
    expect(job).toMatchObject({ status: 'failed', cost: 0, error: { code: 'weights_mismatch' } });
    expect(json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }))).toMatchObject({ balance: 1_000_000, held: 0 });
  });
});

describe('POST /v1/evaluate', () => {
  it('scores texts: loss, perplexity = exp(loss), per-text results, billed per token', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const long = 'The history of the sea is long and full of ships. '.repeat(20);
    const res = await t.app.inject({ method: 'POST', url: '/v1/evaluate', headers, payload: { model: 'tiny-gpt2', texts: ['Hello world, again', long] } });
    expect(res.statusCode).toBe(200);
    const job = json(res);
    expect(job.results).toHaveLength(2);
    expect(job.results[1].tokens).toBeGreaterThan(128);
    expect(job.tokens).toBe(job.results[0].tokens + job.results[1].tokens);
    expect(job.perplexity).toBeCloseTo(Math.exp(job.loss), 6);
    // A random 50k-vocabulary model scores near ln(50257) ≈ 10.8 nats per token.
    expect(job.loss).toBeGreaterThan(8);
    expect(job.loss).toBeLessThan(13);
    expect(BigInt(job.cost)).toBe(jobCost(DEFAULT_MODEL_PRICES, job.usage.input_tokens));
    const single = json(await t.app.inject({ method: 'POST', url: '/v1/evaluate', headers, payload: { model: 'tiny-gpt2', text: 'Hello world, again' } }));
    expect(single.loss).toBeCloseTo(job.results[0].loss, 5);
    const both = await t.app.inject({ method: 'POST', url: '/v1/evaluate', headers, payload: { model: 'tiny-gpt2', text: 'a b', texts: ['a b'] } });
    expect(json(both)).toMatchObject({ status: 400, field: 'body.texts' });
  });
});
