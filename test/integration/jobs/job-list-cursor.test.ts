// GET /v1/jobs pages by an exact cursor: rows created within one millisecond (Postgres keeps
// microseconds) are neither skipped nor repeated at page edges.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../../src/jobs/jobs-schema.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await registerTinyModel(t);
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

async function insertJob(accountId: string, createdAt: string, id = randomUUID()) {
  await t.app.db.insert(jobs).values({
    id,
    kind: 'infer',
    accountId,
    modelId: 'tiny-gpt2',
    weightsSha256: '0'.repeat(64),
    request: { input: 'x', parameters: { max_new_tokens: 1 } },
    inputTokens: 1,
    pricePerJob: 0n,
    pricePer1kTokens: 0n,
    maxCost: 0n,
    createdAt: sql`${createdAt}::timestamptz`,
  });
  return { id, createdAt };
}

async function pageThrough(headers: Record<string, string>, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const url: string = `/v1/jobs?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await t.app.inject({ method: 'GET', url, headers });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { data: { id: string }[]; next_cursor: string | null };
    seen.push(...body.data.map((j) => j.id));
    cursor = body.next_cursor;
    if (!cursor) return seen;
  }
  throw new Error('paging did not end');
}

describe('GET /v1/jobs cursor', () => {
  it('pages through rows created within the same millisecond without skipping or repeating one', async () => {
    const { account, headers } = await createFundedAccount(t);
    const rows = [];
    // Eight rows in one millisecond, two of them in the same microsecond, and rows either side.
    for (const us of ['123001', '123002', '123002', '123003', '123500', '123998', '123999', '123999']) {
      rows.push(await insertJob(account.id, `2025-03-04T05:06:07.${us}Z`));
    }
    rows.push(await insertJob(account.id, '2025-03-04T05:06:07.122999Z'));
    rows.push(await insertJob(account.id, '2025-03-04T05:06:07.124000Z'));
    const expected = [...rows]
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
      .map((r) => r.id);
    for (const limit of [1, 2, 3, 7]) {
      expect(await pageThrough(headers, limit), `limit ${limit}`).toEqual(expected);
    }
  });

  it('keeps accepting a millisecond cursor of the earlier format, and refuses one that is not a cursor with 400', async () => {
    const { account, headers } = await createFundedAccount(t);
    const a = await insertJob(account.id, '2025-01-01T00:00:00.000500Z');
    await insertJob(account.id, '2025-01-01T00:00:00.001500Z');
    const old = Buffer.from(`2025-01-01T00:00:00.001Z|${'f'.repeat(8)}-ffff-4fff-bfff-${'f'.repeat(12)}`).toString('base64url');
    const res = await t.app.inject({ method: 'GET', url: `/v1/jobs?cursor=${old}`, headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.map((j: { id: string }) => j.id)).toEqual([a.id]);
    for (const bad of ['not-a-cursor', Buffer.from('2025-01-01T00:00:00.0015Z|x').toString('base64url')]) {
      const refused = await t.app.inject({ method: 'GET', url: `/v1/jobs?cursor=${bad}`, headers });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'validation_failed', field: 'querystring.cursor' });
    }
  });

  it("never shows another account's jobs on any page", async () => {
    const mine = await createFundedAccount(t);
    const theirs = await createFundedAccount(t);
    const own = await insertJob(mine.account.id, '2025-06-01T00:00:00.000001Z');
    await insertJob(theirs.account.id, '2025-06-01T00:00:00.000002Z');
    expect(await pageThrough(mine.headers, 1)).toEqual([own.id]);
  });
});
