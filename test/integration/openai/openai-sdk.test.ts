// The OpenAI-compatible routes, driven by the official `openai` SDK against the gateway listening on
// a loopback port: models, completions and chat (whole and streamed, with usage), errors in OpenAI's
// shape, and the same jobs, credits and receipts as the native API.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReceipt, verifyReceiptSignature } from '../../../src/receipts/index.js';
import { renderChatPrompt } from '../../../src/openai/chat-template.js';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
let baseURL: string;
let key: string;
let headers: { authorization: string };
beforeAll(async () => {
  t = await createTestApp({ WORKER_IN_PROCESS: 'true', BATCH_WAIT_MS: '20' });
  await registerTinyModel(t);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseURL = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}/openai/v1`;
  const funded = await createFundedAccount(t, { credits: 20_000_000 });
  key = funded.key.key;
  headers = funded.headers;
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const client = (apiKey = key) => new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const balance = async () => (await t.app.inject({ method: 'GET', url: '/v1/account', headers })).json().balance as number;
const jwks = async () => (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();

describe('OpenAI SDK against /openai/v1', () => {
  it('lists and retrieves models', async () => {
    const ids = [];
    for await (const m of client().models.list()) ids.push(m.id);
    expect(ids).toContain('tiny-gpt2');
    const model = await client().models.retrieve('tiny-gpt2');
    expect(model).toMatchObject({ id: 'tiny-gpt2', object: 'model', owned_by: 'posthuman' });
    await expect(client().models.retrieve('no-such-model')).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('completes a prompt: the native job output, usage, the charge and a verifiable receipt in headers and body', async () => {
    const before = await balance();
    const { data, response } = await client()
      .completions.create({ model: 'tiny-gpt2', prompt: 'The quick brown fox', max_tokens: 12, temperature: 0 })
      .withResponse();
    const native = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/infer',
        headers,
        payload: { model: 'tiny-gpt2', input: 'The quick brown fox', parameters: { max_new_tokens: 12, temperature: 0 } },
      })
    ).json();
    expect(data.object).toBe('text_completion');
    expect(data.choices[0].text).toBe(native.output);
    expect(data.usage).toEqual({ prompt_tokens: 4, completion_tokens: native.usage.output_tokens, total_tokens: 4 + native.usage.output_tokens });
    const extension = (data as unknown as { posthuman: { job_id: string; cost: number; receipt: { id: string; jws: string } } }).posthuman;
    expect(data.id).toBe(`cmpl-${extension.job_id}`);
    expect(response.headers.get('x-job-id')).toBe(extension.job_id);
    expect(response.headers.get('x-receipt-id')).toBe(extension.receipt.id);
    expect(response.headers.get('x-receipt-jws')).toBe(extension.receipt.jws);
    expect((await verifyReceiptSignature(extension.receipt.jws, await jwks())).ok).toBe(true);
    expect(decodeReceipt(extension.receipt.jws).payload.job_id).toBe(extension.job_id);
    expect(await balance()).toBe(before - extension.cost - native.cost);
    const job = (await t.app.inject({ method: 'GET', url: `/v1/jobs/${extension.job_id}`, headers })).json();
    expect(job).toMatchObject({ kind: 'infer', status: 'succeeded', output: data.choices[0].text, cost: extension.cost });
  });

  it('answers a chat through the documented template, stopping before a new turn', async () => {
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'Say hello' },
    ];
    const chat = await client().chat.completions.create({ model: 'tiny-gpt2', messages, max_tokens: 10, temperature: 0 });
    const prompt = renderChatPrompt(messages);
    expect(prompt).toBe('System: You are terse.\nUser: Say hello\nAssistant:');
    expect(chat.object).toBe('chat.completion');
    expect(chat.choices[0].message.role).toBe('assistant');
    expect(chat.usage?.prompt_tokens).toBe(getGpt2Tokenizer().countTokens(prompt, 1000));
    const native = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/infer',
        headers,
        payload: { model: 'tiny-gpt2', input: prompt, parameters: { max_new_tokens: 10, temperature: 0, stop: ['\nUser:', '\nSystem:'] } },
      })
    ).json();
    expect(chat.choices[0].message.content).toBe(native.output);
    expect(chat.choices[0].finish_reason).toBe(native.finish_reason === 'length' ? 'length' : 'stop');
  });

  it('streams chat chunks with usage last, the concatenated text being the job output, the receipt in the last chunk', async () => {
    const stream = await client().chat.completions.create({
      model: 'tiny-gpt2',
      messages: [{ role: 'user', content: 'Tell me about the sea' }],
      max_tokens: 8,
      temperature: 0.8,
      seed: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const last = chunks.at(-1)! as (typeof chunks)[number] & { posthuman: { job_id: string; receipt: { jws: string } } };
    expect(last.choices).toEqual([]);
    expect(chunks.at(-2)!.choices[0].finish_reason).toMatch(/^(stop|length)$/);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const job = (await t.app.inject({ method: 'GET', url: `/v1/jobs/${last.posthuman.job_id}`, headers })).json();
    expect(text).toBe(job.output);
    expect(last.usage).toEqual({ prompt_tokens: job.usage.input_tokens, completion_tokens: job.usage.output_tokens, total_tokens: job.usage.input_tokens + job.usage.output_tokens });
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect((await verifyReceiptSignature(last.posthuman.receipt.jws, await jwks())).ok).toBe(true);
  });

  it('streams completions without usage: the finish chunk carries the posthuman block', async () => {
    const stream = await client().completions.create({ model: 'tiny-gpt2', prompt: 'Once upon a time', max_tokens: 6, stream: true });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks.at(-1)! as (typeof chunks)[number] & { posthuman: { job_id: string; receipt: { id: string } } };
    expect(last.choices[0].finish_reason).toBe('length');
    expect(last.usage).toBeUndefined();
    const job = (await t.app.inject({ method: 'GET', url: `/v1/jobs/${last.posthuman.job_id}`, headers })).json();
    expect(chunks.map((c) => c.choices[0].text).join('')).toBe(job.output);
    expect(last.posthuman.receipt.id).toBe(job.receipt.id);
  });

  it("answers errors in OpenAI's shape, as the SDK's error classes", async () => {
    await expect(client('ph_bogus_key').completions.create({ model: 'tiny-gpt2', prompt: 'x' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const tooLong = await client()
      .chat.completions.create({ model: 'tiny-gpt2', messages: [{ role: 'user', content: 'hi' }], max_tokens: 500 })
      .catch((e) => e);
    expect(tooLong).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tooLong).toMatchObject({ status: 400, param: 'max_tokens', code: 'validation_failed', type: 'invalid_request_error' });
    const tools = await client()
      .chat.completions.create({ model: 'tiny-gpt2', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f' } }] })
      .catch((e) => e);
    expect(tools).toMatchObject({ status: 400, param: 'tools' });
    const unknown = await client().completions.create({ model: 'no-such-model', prompt: 'x' }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.param).toBe('model');
    const poor = await createFundedAccount(t, { credits: 1_000 });
    const broke = await client(poor.key.key).completions.create({ model: 'tiny-gpt2', prompt: 'x' }).catch((e) => e);
    expect(broke).toMatchObject({ status: 402, type: 'insufficient_quota', code: 'insufficient_credit' });
    const evaluator = await createFundedAccount(t, { credits: 1_000_000, scopes: ['evaluate'] });
    const denied = await client(evaluator.key.key).completions.create({ model: 'tiny-gpt2', prompt: 'x' }).catch((e) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const missing = await fetch(`${baseURL}/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: unknown }).error).toMatchObject({ type: 'not_found_error', code: 'not_found' });
  });
});
