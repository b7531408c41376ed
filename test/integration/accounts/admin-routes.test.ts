import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const json = (res: { body: string }) => JSON.parse(res.body);

async function newAccount(name = 'acme') {
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/accounts', headers: t.operatorHeaders, payload: { name } });
  expect(res.statusCode).toBe(201);
  return json(res) as { id: string; name: string };
}

describe('POST /v1/admin/accounts', () => {
  it('creates an account (happy path)', async () => {
    const account = await newAccount('Acme Corp');
    expect(account.name).toBe('Acme Corp');
    expect(account.id).toMatch(/^[0-9a-f-]{36}$/);
    const read = await t.app.inject({ method: 'GET', url: `/v1/admin/accounts/${account.id}`, headers: t.operatorHeaders });
    expect(json(read)).toMatchObject({ id: account.id, balance: 0, held: 0 });
  });

  it('names the missing field in a problem+json 400', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/accounts', headers: t.operatorHeaders, payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(json(res)).toMatchObject({ code: 'validation_failed', status: 400, field: 'body.name' });
    expect(json(res).requestId).toBe(res.headers['x-request-id']);
  });

  it('rejects unknown properties naming them', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: t.operatorHeaders,
      payload: { name: 'x', plan: 'gold' },
    });
    expect(res.statusCode).toBe(400);
    expect(json(res)).toMatchObject({ code: 'validation_failed', field: 'body.plan' });
    expect(json(res).detail).toContain('body.plan is not a known field');
  });

  it('refuses no token, a wrong token and an API key (security)', async () => {
    const none = await t.app.inject({ method: 'POST', url: '/v1/admin/accounts', payload: { name: 'x' } });
    expect(none.statusCode).toBe(401);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: { authorization: `Bearer ${t.operatorToken}x` },
      payload: { name: 'x' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong).code).toBe('unauthorized');
    const account = await newAccount();
    const key = json(
      await t.app.inject({ method: 'POST', url: `/v1/admin/accounts/${account.id}/keys`, headers: t.operatorHeaders, payload: {} }),
    ).key;
    const asKey = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: { authorization: `Bearer ${key}` },
      payload: { name: 'x' },
    });
    expect(asKey.statusCode).toBe(401);
  });
});

describe('POST /v1/admin/accounts/{id}/keys', () => {
  it('issues a key shown once, with a public prefix, default scopes and limits', async () => {
    const account = await newAccount();
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/accounts/${account.id}/keys`,
      headers: t.operatorHeaders,
      payload: { name: 'prod', rate_limit_per_minute: 100, spend_cap: 5_000_000 },
    });
    expect(res.statusCode).toBe(201);
    const key = json(res);
    expect(key.key).toMatch(/^ph_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.key.startsWith(`ph_${key.prefix}_`)).toBe(true);
    // Uploading models is granted explicitly, never by default.
    expect(key).toMatchObject({ name: 'prod', scopes: ['infer', 'evaluate', 'finetune', 'keys'] });
    expect(key).toMatchObject({ rate_limit_per_minute: 100, spend_cap: 5_000_000, spent: 0 });
    const me = await t.app.inject({ method: 'GET', url: '/v1/account', headers: { authorization: `Bearer ${key.key}` } });
    expect(json(me).id).toBe(account.id);
  });

  it('stores only a hash of the key', async () => {
    const account = await newAccount();
    const key = json(
      await t.app.inject({ method: 'POST', url: `/v1/admin/accounts/${account.id}/keys`, headers: t.operatorHeaders, payload: {} }),
    );
    // Search every text column of the keys table for the secret.
    const { rows } = (await t.testDb.database.db.execute(
      sql`SELECT count(*)::int AS n FROM api_keys WHERE key_hash = ${key.key} OR prefix = ${key.key} OR name = ${key.key}`,
    )) as unknown as { rows: { n: number }[] };
    expect((rows[0] as { n: number }).n).toBe(0);
  });

  it('404s for an unknown account and 400s for an unknown scope', async () => {
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts/00000000-0000-4000-8000-000000000000/keys',
      headers: t.operatorHeaders,
      payload: {},
    });
    expect(missing.statusCode).toBe(404);
    const account = await newAccount();
    const bad = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/accounts/${account.id}/keys`,
      headers: t.operatorHeaders,
      payload: { scopes: ['admin'] },
    });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).field).toBe('body.scopes.0');
  });

  it('400s for an id that is not a uuid, naming the parameter', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/admin/accounts/nope/keys', headers: t.operatorHeaders, payload: {} });
    expect(res.statusCode).toBe(400);
    expect(json(res).field).toBe('params.id');
  });
});

describe('POST /v1/admin/accounts/{id}/credits', () => {
  const grant = (id: string, payload: unknown, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/admin/accounts/${id}/credits`,
      headers: { ...t.operatorHeaders, ...(key ? { 'idempotency-key': key } : {}) },
      payload: payload as object,
    });

  it('grants credit and returns the new balance', async () => {
    const account = await newAccount();
    expect(json(await grant(account.id, { amount: 1_500_000, reason: 'top-up' })).balance).toBe(1_500_000);
    const second = await grant(account.id, { amount: '2500000', reason: 'top-up as string' });
    expect(second.statusCode).toBe(201);
    expect(json(second).balance).toBe(4_000_000);
  });

  it('replays a retried grant with the same Idempotency-Key and moves money once', async () => {
    const account = await newAccount();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => grant(account.id, { amount: 700, reason: 'retry' }, 'grant-abc')),
    );
    expect(answers.every((a) => a.statusCode === 201)).toBe(true);
    expect(new Set(answers.map((a) => json(a).transaction_id)).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(7);
    const read = await t.app.inject({ method: 'GET', url: `/v1/admin/accounts/${account.id}`, headers: t.operatorHeaders });
    expect(json(read).balance).toBe(700);
  });

  it('answers 422 when the same Idempotency-Key comes with another body', async () => {
    const account = await newAccount();
    expect((await grant(account.id, { amount: 10, reason: 'a' }, 'k-422')).statusCode).toBe(201);
    const other = await grant(account.id, { amount: 11, reason: 'a' }, 'k-422');
    expect(other.statusCode).toBe(422);
    expect(json(other)).toMatchObject({ code: 'idempotency_key_reused', field: 'headers.idempotency-key' });
  });

  it('refuses floats, zero, negatives and non-decimal strings, naming body.amount', async () => {
    const account = await newAccount();
    for (const amount of [1.5, 0, -5, '1e6', '0x10', '']) {
      const res = await grant(account.id, { amount, reason: 'bad' });
      expect(res.statusCode, `amount ${JSON.stringify(amount)}`).toBe(400);
      expect(json(res).field).toMatch(/^body\.amount/);
    }
  });

  it('404s for an unknown account and needs the operator token', async () => {
    expect((await grant('00000000-0000-4000-8000-000000000000', { amount: 1, reason: 'x' })).statusCode).toBe(404);
    const account = await newAccount();
    const anon = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/accounts/${account.id}/credits`,
      payload: { amount: 1, reason: 'x' },
    });
    expect(anon.statusCode).toBe(401);
  });
});
