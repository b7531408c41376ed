// The request shapes fuzzing once turned into 500s, and the input bounds: each is a 400 (or 409)
// problem+json naming what is wrong, and huge inputs are refused without stalling other requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
let headers: Record<string, string>;
beforeAll(async () => {
  // The worker runs in this process, so job requests get past the live-worker check to validation.
  t = await createTestApp({ WORKER_IN_PROCESS: 'true' });
  await registerTinyModel(t);
  ({ headers } = await createFundedAccount(t, { credits: 10_000_000, scopes: ['infer', 'evaluate', 'keys'] }));
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

type Injected = { statusCode: number; headers: Record<string, unknown>; body: string };
function problem(res: Injected, status: number) {
  expect(res.statusCode, res.body).toBe(status);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  return JSON.parse(res.body) as { detail: string; field?: string; code: string };
}
const cursor = (text: string) => Buffer.from(text).toString('base64url');

describe('input limits', () => {
  it('refuses a 1 MB infer input with a 400 naming body.input while /healthz is answered', async () => {
    const [refused, health] = await Promise.all([
      t.app.inject({ method: 'POST', url: '/v1/infer', headers, payload: { model: 'tiny-gpt2', input: 'a'.repeat(1_000_000) } }),
      t.app.inject({ method: 'GET', url: '/healthz' }),
    ]);
    expect(problem(refused, 400).field).toBe('body.input');
    expect(health.statusCode).toBe(200);
  });

  it('refuses an input over the context without tokenizing all of it (a 150,000-letter word)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/infer', headers, payload: { model: 'tiny-gpt2', input: 'a'.repeat(150_000) } });
    const body = problem(res, 400);
    expect(body.field).toBe('body.input');
    expect(body.detail).toContain('more than 128 tokens');
  });

  it('refuses a 1 MB evaluate text, and texts over 200,000 characters in all, naming the field', async () => {
    const one = await t.app.inject({ method: 'POST', url: '/v1/evaluate', headers, payload: { model: 'tiny-gpt2', text: 'a'.repeat(1_000_000) } });
    expect(problem(one, 400).field).toBe('body.text');
    const many = await t.app.inject({
      method: 'POST',
      url: '/v1/evaluate',
      headers,
      payload: { model: 'tiny-gpt2', texts: ['a b '.repeat(30_000), 'c d '.repeat(30_000)] },
    });
    expect(problem(many, 400)).toMatchObject({ field: 'body.texts', detail: expect.stringContaining('240000 characters') });
  });
});

describe('text no route can store', () => {
  it('refuses NUL characters and lone surrogates anywhere in the body, query or path, naming the field', async () => {
    const cases: [string, { method: 'GET' | 'POST'; url: string; payload?: object; operator?: boolean }, string][] = [
      ['NUL in an account name', { method: 'POST', url: '/v1/admin/accounts', payload: { name: 'a\u0000b' }, operator: true }, 'body.name'],
      ['lone surrogate in a name', { method: 'POST', url: '/v1/admin/accounts', payload: { name: 'x\ud800' }, operator: true }, 'body.name'],
      ['NUL in an infer input', { method: 'POST', url: '/v1/infer', payload: { model: 'tiny-gpt2', input: 'hi\u0000' } }, 'body.input'],
      ['NUL in a model id', { method: 'POST', url: '/v1/infer', payload: { model: 'tiny\u0000', input: 'hi' } }, 'body.model'],
      ['a lone low surrogate in texts', { method: 'POST', url: '/v1/evaluate', payload: { model: 'tiny-gpt2', texts: ['ok ok', 'b\udc00'] } }, 'body.texts.1'],
      ['NUL in a path id', { method: 'GET', url: '/v1/models/a%00b' }, 'params.id'],
      ['NUL in a query', { method: 'GET', url: '/v1/jobs?cursor=%00' }, 'querystring.cursor'],
    ];
    for (const [name, c, field] of cases) {
      const res = await t.app.inject({ method: c.method, url: c.url, headers: c.operator ? t.operatorHeaders : headers, payload: c.payload });
      expect(problem(res, 400).field, name).toBe(field);
    }
  });

  it('names an unknown field instead of only saying there is one', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/accounts', headers: t.operatorHeaders, payload: { name: 'ok', foo: 1 } });
    expect(problem(res, 400)).toMatchObject({ field: 'body.foo', detail: 'body.foo is not a known field' });
    const nested = await t.app.inject({
      method: 'POST',
      url: '/v1/infer',
      headers,
      payload: { model: 'tiny-gpt2', input: 'x', parameters: { max_new_tokens: 1, temperature: 0, seed: 0, bogus: true } },
    });
    expect(problem(nested, 400).field).toBe('body.parameters.bogus');
  });
});

describe('cursors and sizes out of range', () => {
  it('refuses job cursors with trailing garbage, impossible dates or ids that are not UUIDs', async () => {
    for (const bad of [
      cursor('2024-01-01T00:00:00.000Z|00000000-0000-4000-a000-000000000000|junk'),
      cursor('+275760-09-13T00:00:00.000Z|00000000-0000-4000-a000-000000000000'),
      cursor('2024-02-30T00:00:00.000Z|00000000-0000-4000-a000-000000000000'),
      cursor('2024-01-01T00:00:00.000Z|------------------------------------'),
    ]) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/jobs?cursor=${bad}`, headers });
      expect(problem(res, 400).field).toBe('querystring.cursor');
    }
    const good = await t.app.inject({ method: 'GET', url: `/v1/jobs?cursor=${cursor('2024-01-01T00:00:00.000Z|00000000-0000-4000-a000-000000000000')}`, headers });
    expect(good.statusCode).toBe(200);
  });

  it('refuses a ledger cursor beyond int8', async () => {
    for (const bad of [cursor('e:9223372036854775808'), cursor('e:9999999999999999999')]) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/account/ledger?cursor=${bad}`, headers });
      expect(problem(res, 400).field).toBe('querystring.cursor');
    }
  });

  it('refuses tree sizes past 2^53 and 1e309 on the log proofs', async () => {
    const receipt = '00000000-0000-4000-a000-000000000000';
    for (const url of [
      `/v1/log/proof/inclusion?receipt=${receipt}&tree_size=9223372036854775808`,
      `/v1/log/proof/inclusion?receipt=${receipt}&tree_size=1e309`,
      '/v1/log/proof/consistency?from=1&to=9223372036854775808',
      '/v1/log/proof/consistency?from=1e309&to=2',
    ]) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(problem(res, 400).field, url).toMatch(/^querystring\./);
    }
  });
});

describe('POST /v1/admin/keys/rotate', () => {
  it('refuses a body other than none, null or {}', async () => {
    const extra = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: t.operatorHeaders, payload: { x: 1 } });
    expect(problem(extra, 400).field).toBe('body.x');
    const text = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/keys/rotate',
      headers: { ...t.operatorHeaders, 'content-type': 'text/plain' },
      payload: 'rotate please',
    });
    expect(text.statusCode).toBeGreaterThanOrEqual(400);
    expect(text.statusCode).toBeLessThan(500);
  });

  it('answers 409 rotation_in_progress to a rotation started while one runs', async () => {
    const [first, second] = await Promise.allSettled([t.app.keyStore.rotate('gateway'), t.app.keyStore.rotate('gateway')]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'rotation_in_progress', status: 409 } });
    const after = await t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: t.operatorHeaders });
    expect(after.statusCode).toBe(200);
  });
});
