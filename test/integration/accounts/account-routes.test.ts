import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedAccount, createTestApp, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const json = (res: { body: string }) => JSON.parse(res.body);

describe('GET /v1/account', () => {
  it('returns the caller account with balance and held credit', async () => {
    const { account, headers } = await createFundedAccount(t, { name: 'reader', credits: 3_000_000 });
    await t.app.ledger.hold({ accountId: account.id, amount: 1_000_000n, idempotencyKey: 'acct-hold' });
    const res = await t.app.inject({ method: 'GET', url: '/v1/account', headers });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ id: account.id, name: 'reader', balance: 2_000_000, held: 1_000_000 });
  });

  it('401s without a key, with a malformed key, a wrong secret, and a revoked key', async () => {
    const { key, headers } = await createFundedAccount(t);
    const cases: Record<string, string | undefined> = {
      none: undefined,
      basic: 'Basic abc',
      malformed: 'Bearer not-a-key',
      wrongSecret: `Bearer ph_${key.prefix}_${'A'.repeat(43)}`,
    };
    for (const [name, authorization] of Object.entries(cases)) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/account', headers: authorization ? { authorization } : {} });
      expect(res.statusCode, name).toBe(401);
      expect(res.body, name).not.toContain(key.key);
    }
    const revoke = await t.app.inject({ method: 'DELETE', url: `/v1/account/keys/${key.id}`, headers });
    expect(revoke.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/v1/account', headers });
    expect(after.statusCode).toBe(401);
    expect(json(after).detail).toContain('revoked');
  });
});

describe('GET /v1/account/ledger', () => {
  it('pages through entries newest first with a cursor, each carrying the balance after it', async () => {
    const { account, headers } = await createFundedAccount(t, { credits: 100 });
    for (let i = 0; i < 4; i++) {
      const { holdId } = await t.app.ledger.hold({ accountId: account.id, amount: 10n, idempotencyKey: `page-${i}` });
      await t.app.ledger.settle({ holdId, capture: 3n });
    }
    const seen: { id: string; amount: number; book: string; kind: string; balance_after: number }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/account/ledger?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode).toBe(200);
      const body = json(res);
      seen.push(...body.data);
      cursor = body.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    // 1 grant entry + 4 holds × 2 entries + 4 settles × 2 entries (held out, available back).
    expect(seen).toHaveLength(17);
    expect(new Set(seen.map((e) => e.id)).size).toBe(17);
    expect(seen.map((e) => BigInt(e.id))).toEqual([...seen.map((e) => BigInt(e.id))].sort((a, b) => (a > b ? -1 : 1)));
    const available = seen.filter((e) => e.book === 'available');
    expect(available[0].balance_after).toBe(100 - 4 * 3);
    expect(seen.at(-1)).toMatchObject({ kind: 'grant', amount: 100, book: 'available', balance_after: 100 });
  });

  it('shows only the caller account entries (tenant isolation)', async () => {
    const a = await createFundedAccount(t, { credits: 5 });
    const b = await createFundedAccount(t, { credits: 7 });
    const res = await t.app.inject({ method: 'GET', url: '/v1/account/ledger', headers: b.headers });
    expect(json(res).data.map((e: { amount: number }) => e.amount)).toEqual([7]);
    expect(a.account.id).not.toBe(b.account.id);
  });

  it('400s for a forged cursor and an out-of-range limit', async () => {
    const { headers } = await createFundedAccount(t);
    const forged = await t.app.inject({ method: 'GET', url: '/v1/account/ledger?cursor=Zm9v', headers });
    expect(forged.statusCode).toBe(400);
    expect(json(forged).field).toBe('querystring.cursor');
    const limit = await t.app.inject({ method: 'GET', url: '/v1/account/ledger?limit=5000', headers });
    expect(limit.statusCode).toBe(400);
    expect(json(limit).field).toBe('querystring.limit');
  });
});

describe('API keys of the account', () => {
  it('creates a narrower key, lists keys without secrets, and revokes at once', async () => {
    const { headers, key } = await createFundedAccount(t);
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/account/keys',
      headers,
      payload: { name: 'ci', scopes: ['infer'] },
    });
    expect(created.statusCode).toBe(201);
    const child = json(created);
    expect(child.scopes).toEqual(['infer']);
    const list = await t.app.inject({ method: 'GET', url: '/v1/account/keys', headers });
    const listed = json(list).data;
    expect(listed.map((k: { id: string }) => k.id).sort()).toEqual([key.id, child.id].sort());
    expect(list.body).not.toContain(child.key);
    expect(list.body).not.toContain('hash');
    const childHeaders = { authorization: `Bearer ${child.key}` };
    expect((await t.app.inject({ method: 'GET', url: '/v1/account', headers: childHeaders })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/account/keys/${child.id}`, headers })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/v1/account', headers: childHeaders })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/account/keys/${child.id}`, headers })).statusCode).toBe(404);
  });

  it('403s without the keys scope and when granting a scope the caller lacks', async () => {
    const { headers } = await createFundedAccount(t, { scopes: ['infer', 'keys'] });
    const escalate = await t.app.inject({ method: 'POST', url: '/v1/account/keys', headers, payload: { scopes: ['publish'] } });
    expect(escalate.statusCode).toBe(403);
    expect(json(escalate)).toMatchObject({ code: 'scope_exceeds_parent', field: 'body.scopes' });
    const inferOnly = await createFundedAccount(t, { scopes: ['infer'] });
    const res = await t.app.inject({ method: 'GET', url: '/v1/account/keys', headers: inferOnly.headers });
    expect(res.statusCode).toBe(403);
    expect(json(res).detail).toContain('"keys" scope');
  });

  it("a key's child inherits its spend cap (what is left of it) and rate limit, and may not exceed them", async () => {
    const { headers, key } = await createFundedAccount(t, { scopes: ['infer', 'keys'], spendCap: 5_000, rateLimitPerMinute: 100 });
    const create = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/v1/account/keys', headers, payload });

    const inherited = await create({ name: 'inherits' });
    expect(inherited.statusCode, inherited.body).toBe(201);
    expect(json(inherited)).toMatchObject({ scopes: ['infer', 'keys'], spend_cap: 5_000, rate_limit_per_minute: 100 });
    const lower = await create({ spend_cap: 10, rate_limit_per_minute: 5, scopes: ['infer'] });
    expect(json(lower)).toMatchObject({ spend_cap: 10, rate_limit_per_minute: 5, scopes: ['infer'] });

    for (const [field, payload] of [
      ['body.spend_cap', { spend_cap: 5_001 }],
      ['body.rate_limit_per_minute', { rate_limit_per_minute: 101 }],
    ] as const) {
      const res = await create(payload);
      expect(res.statusCode).toBe(400);
      expect(json(res)).toMatchObject({ code: 'key_limit_exceeds_parent', field });
    }
    // A grandchild is bounded by its own parent (the child), not the root.
    const child = { authorization: `Bearer ${json(inherited).key}` };
    const grand = await t.app.inject({ method: 'POST', url: '/v1/account/keys', headers: child, payload: { scopes: ['infer', 'keys', 'publish'] } });
    expect(grand.statusCode).toBe(403);
    expect(json(grand).code).toBe('scope_exceeds_parent');

    // What the parent already spent is no longer its to hand out.
    await t.app.db.execute(sql`UPDATE api_keys SET spent = 4990 WHERE id = ${key.id}`);
    expect(json(await create({}))).toMatchObject({ spend_cap: 10 });
    const over = await create({ spend_cap: 11 });
    expect(json(over)).toMatchObject({ code: 'key_limit_exceeds_parent', field: 'body.spend_cap' });
    expect(json(over).detail).toContain('(10 of its cap 5000)');
    const keys = json(await t.app.inject({ method: 'GET', url: '/v1/account/keys', headers })).data;
    expect(keys).toHaveLength(4);
  });

  it('a key with no limits may create keys with any limits it names', async () => {
    const { headers } = await createFundedAccount(t, { scopes: ['infer', 'keys'] });
    const res = await t.app.inject({ method: 'POST', url: '/v1/account/keys', headers, payload: { spend_cap: 7, rate_limit_per_minute: 9 } });
    expect(json(res)).toMatchObject({ spend_cap: 7, rate_limit_per_minute: 9 });
    const bare = await t.app.inject({ method: 'POST', url: '/v1/account/keys', headers, payload: {} });
    expect(json(bare)).toMatchObject({ spend_cap: null, rate_limit_per_minute: null });
  });

  it("cannot revoke another account's key (404, and the key keeps working)", async () => {
    const a = await createFundedAccount(t);
    const b = await createFundedAccount(t);
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/account/keys/${b.key.id}`, headers: a.headers });
    expect(res.statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/v1/account', headers: b.headers })).statusCode).toBe(200);
  });
});

describe('per-key rate limits', () => {
  it('429s past the per-minute limit with Retry-After, shared by every replica through Redis', async () => {
    const { headers } = await createFundedAccount(t, { rateLimitPerMinute: 3 });
    const replica = await createTestApp({ REDIS_PREFIX: t.config.redisPrefix }, t.testDb);
    try {
      const statuses: number[] = [];
      for (const app of [t.app, replica.app, t.app, replica.app]) {
        const res = await app.inject({ method: 'GET', url: '/v1/account', headers });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
          // GCRA: 3 per minute refills one every 20 s.
          expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(20);
          expect(json(res).code).toBe('rate_limited');
        }
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await replica.close();
    }
  });
});
