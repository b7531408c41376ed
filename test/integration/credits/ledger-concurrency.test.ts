import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounts, apiKeys } from '../../../src/accounts/accounts-schema.js';
import { createLedger } from '../../../src/credits/credit-ledger.js';
import { openDatabase } from '../../../src/db/database.js';
import { AppError } from '../../../src/errors/app-error.js';
import { createTestApp, createFundedAccount, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function ledgerInvariants() {
  const db = { execute: async (q: ReturnType<typeof sql>) => (await t.app.db.execute(q)) as unknown as { rows: unknown[] } };
  const unbalanced = await db.execute(
    sql`SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount) <> 0`,
  );
  const drift = await db.execute(sql`
    SELECT b.id FROM ledger_books b
    LEFT JOIN ledger_entries e ON e.book_id = b.id
    GROUP BY b.id, b.balance HAVING b.balance <> COALESCE(SUM(e.amount), 0)`);
  const total = await db.execute(sql`SELECT COALESCE(SUM(amount), 0)::text AS total FROM ledger_entries`);
  const negative = await db.execute(sql`SELECT id FROM ledger_books WHERE NOT allow_negative AND balance < 0`);
  return {
    unbalanced: unbalanced.rows.length,
    drift: drift.rows.length,
    total: (total.rows[0] as { total: string }).total,
    negative: negative.rows.length,
  };
}

describe('credit ledger under concurrency', () => {
  it('200 concurrent holds of 1 against a balance of 50: exactly 50 succeed, 150 are refused', async () => {
    const { account } = await createFundedAccount(t, { credits: 50 });
    const attempts = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        t.app.ledger.hold({ accountId: account.id, amount: 1n, idempotencyKey: `c200-${i}` }),
      ),
    );
    const ok = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.filter(
      (a) => a.status === 'rejected' && a.reason instanceof AppError && a.reason.code === 'insufficient_credit',
    );
    expect(ok).toHaveLength(50);
    expect(refused).toHaveLength(150);
    expect(refused.every((r) => (r as PromiseRejectedResult).reason.status === 402)).toBe(true);
    const balances = await t.app.ledger.balances(account.id);
    expect(balances).toMatchObject({ available: 0n, held: 50n });
    expect(await ledgerInvariants()).toEqual({ unbalanced: 0, drift: 0, total: '0', negative: 0 });
  });

  it('a hold retried with the same idempotency key holds once', async () => {
    const { account } = await createFundedAccount(t, { credits: 100 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.app.ledger.hold({ accountId: account.id, amount: 30n, idempotencyKey: 'same' })),
    );
    expect(new Set(results.map((r) => r.holdId)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await t.app.ledger.balances(account.id)).toMatchObject({ available: 70n, held: 30n });
  });

  it('settles a hold exactly once however many times settle races', async () => {
    const { account } = await createFundedAccount(t, { credits: 1000 });
    const { holdId } = await t.app.ledger.hold({ accountId: account.id, amount: 400n, idempotencyKey: 'settle-race' });
    const settles = await Promise.all(Array.from({ length: 8 }, () => t.app.ledger.settle({ holdId, capture: 150n })));
    expect(settles.filter((s) => !s.replayed)).toHaveLength(1);
    expect(settles.every((s) => s.captured === 150n && s.released === 250n)).toBe(true);
    expect(await t.app.ledger.balances(account.id)).toMatchObject({ available: 850n, held: 0n });
    const again = await t.app.ledger.release(holdId);
    expect(again).toMatchObject({ replayed: true, captured: 150n });
    expect(await ledgerInvariants()).toMatchObject({ unbalanced: 0, drift: 0, total: '0', negative: 0 });
  });

  it('caps a capture at the held amount and releases a failed job in full', async () => {
    const { account } = await createFundedAccount(t, { credits: 100 });
    const a = await t.app.ledger.hold({ accountId: account.id, amount: 40n, idempotencyKey: 'cap-a' });
    const b = await t.app.ledger.hold({ accountId: account.id, amount: 40n, idempotencyKey: 'cap-b' });
    expect((await t.app.ledger.settle({ holdId: a.holdId, capture: 999n })).captured).toBe(40n);
    expect((await t.app.ledger.release(b.holdId)).released).toBe(40n);
    expect(await t.app.ledger.balances(account.id)).toMatchObject({ available: 60n, held: 0n });
  });

  it("enforces a key's spend cap atomically across concurrent holds, and gives released credit back", async () => {
    const { account, key } = await createFundedAccount(t, { credits: 10_000, spendCap: 100 });
    const attempts = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        t.app.ledger.hold({ accountId: account.id, apiKeyId: key.id, amount: 10n, idempotencyKey: `cap-${i}` }),
      ),
    );
    const ok = attempts.filter((a) => a.status === 'fulfilled') as PromiseFulfilledResult<{ holdId: string }>[];
    const capped = attempts.filter(
      (a) => a.status === 'rejected' && (a.reason as AppError).code === 'spend_cap_exceeded',
    );
    expect(ok).toHaveLength(10);
    expect(capped).toHaveLength(20);
    await t.app.ledger.settle({ holdId: ok[0].value.holdId, capture: 4n });
    // 6 released back under the cap: one more hold of 6 fits, 7 does not.
    await expect(
      t.app.ledger.hold({ accountId: account.id, apiKeyId: key.id, amount: 7n, idempotencyKey: 'cap-over' }),
    ).rejects.toMatchObject({ code: 'spend_cap_exceeded' });
    await t.app.ledger.hold({ accountId: account.id, apiKeyId: key.id, amount: 6n, idempotencyKey: 'cap-fit' });
    expect(await t.app.ledger.balances(account.id)).toMatchObject({ available: 9_900n, held: 96n });
  });

  it('holds, settles and releases of one account race (their books in opposite directions) without a deadlock, to the credit', async () => {
    const { account, key } = await createFundedAccount(t, { credits: 1_000, spendCap: 600 });
    const marketplace = await t.app.db.transaction((tx) => t.app.ledger.systemBook(tx, 'marketplace'));
    const bookBalance = async (id: string) =>
      BigInt(
        ((await t.app.db.execute(sql`SELECT balance::text AS b FROM ledger_books WHERE id = ${id}`)) as unknown as { rows: { b: string }[] }).rows[0].b,
      );
    const marketBefore = await bookBalance(marketplace);
    // 20 open holds of 10 to settle (capturing 0..19) while 40 new holds of 10 compete for what is left.
    const open = [];
    for (let i = 0; i < 20; i++) open.push(await t.app.ledger.hold({ accountId: account.id, apiKeyId: key.id, amount: 10n, idempotencyKey: `race-open-${i}` }));
    const outcomes = await Promise.allSettled([
      ...open.map((h, i) => (i % 5 === 4 ? t.app.ledger.release(h.holdId) : t.app.ledger.settle({ holdId: h.holdId, capture: BigInt(i % 10) }))),
      ...Array.from({ length: 40 }, (_, i) => t.app.ledger.hold({ accountId: account.id, apiKeyId: key.id, amount: 10n, idempotencyKey: `race-new-${i}` })),
    ]);
    const failed = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    // Only the cap may refuse a hold (600 of spend: 200 held before, less what settles give back); nothing deadlocks.
    expect(failed.every((f) => (f.reason as AppError).code === 'spend_cap_exceeded'), String(failed[0]?.reason)).toBe(true);
    expect(outcomes.slice(0, 20).every((o) => o.status === 'fulfilled')).toBe(true);
    const captured = open.reduce((sum, _, i) => sum + (i % 5 === 4 ? 0n : BigInt(i % 10)), 0n);
    const newHolds = outcomes.slice(20).filter((o) => o.status === 'fulfilled').length;
    expect(await t.app.ledger.balances(account.id)).toMatchObject({ available: 1_000n - captured - 10n * BigInt(newHolds), held: 10n * BigInt(newHolds) });
    expect(await bookBalance(marketplace)).toBe(marketBefore + captured);
    const [{ spent }] = (
      (await t.app.db.execute(sql`SELECT spent::text AS spent FROM api_keys WHERE id = ${key.id}`)) as unknown as { rows: { spent: string }[] }
    ).rows;
    expect(BigInt(spent)).toBe(captured + 10n * BigInt(newHolds));
    expect(await ledgerInvariants()).toEqual({ unbalanced: 0, drift: 0, total: '0', negative: 0 });
  });

  it('posts the same statements on the embedded database (npm start without DATABASE_URL): hold, settle, release, refusals', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posthuman-ledger-pglite-'));
    const embedded = await openDatabase({ databaseUrl: undefined, dataDir: dir });
    try {
      await embedded.migrate();
      const db = embedded.db;
      const ledger = createLedger({ db });
      const [account] = await db.insert(accounts).values({ name: 'Embedded' }).returning();
      const [key] = await db.insert(apiKeys).values({ accountId: account.id, name: 'capped', prefix: 'pk_embedded', keyHash: 'x'.repeat(64), scopes: ['infer'], spendCap: 50n }).returning();
      await ledger.grant({ accountId: account.id, amount: 100n, reason: 'test', idempotencyKey: 'embedded' });
      const a = await ledger.hold({ accountId: account.id, apiKeyId: key.id, amount: 40n, idempotencyKey: 'e-a' });
      expect(await ledger.hold({ accountId: account.id, apiKeyId: key.id, amount: 40n, idempotencyKey: 'e-a' })).toEqual({ holdId: a.holdId, replayed: true });
      await expect(ledger.hold({ accountId: account.id, apiKeyId: key.id, amount: 11n, idempotencyKey: 'e-cap' })).rejects.toMatchObject({ code: 'spend_cap_exceeded' });
      await expect(ledger.hold({ accountId: account.id, amount: 61n, idempotencyKey: 'e-poor' })).rejects.toMatchObject({ code: 'insufficient_credit' });
      const b = await ledger.hold({ accountId: account.id, amount: 60n, idempotencyKey: 'e-b' });
      expect(await ledger.settle({ holdId: a.holdId, capture: 15n })).toMatchObject({ captured: 15n, released: 25n, replayed: false });
      expect(await ledger.release(b.holdId)).toMatchObject({ captured: 0n, released: 60n });
      expect(await ledger.balances(account.id)).toMatchObject({ available: 85n, held: 0n });
      const [row] = await db.select({ spent: apiKeys.spent }).from(apiKeys).where(eq(apiKeys.id, key.id));
      expect(row.spent).toBe(15n);
    } finally {
      await embedded.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
