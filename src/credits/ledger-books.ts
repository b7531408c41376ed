// Finds or creates the books (balances) that ledger transactions move credit between.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { ledgerBooks } from './ledger-schema.js';

export type AccountBookKind = 'available' | 'held' | 'earnings';
export type SystemBookKind = 'issuance' | 'marketplace' | 'deposits' | 'payouts';

export const accountBookCode = (accountId: string, kind: AccountBookKind) => `account:${accountId}:${kind}`;
export const systemBookCode = (kind: SystemBookKind) => `system:${kind}`;

/** Creates the account's books if missing and returns their ids by kind. */
export async function ensureAccountBooks(
  db: DbOrTx,
  accountId: string,
): Promise<Record<AccountBookKind, string>> {
  const kinds: AccountBookKind[] = ['available', 'held', 'earnings'];
  await db
    .insert(ledgerBooks)
    .values(kinds.map((kind) => ({ code: accountBookCode(accountId, kind), accountId, kind })))
    .onConflictDoNothing({ target: ledgerBooks.code });
  const rows = await db
    .select({ id: ledgerBooks.id, kind: ledgerBooks.kind })
    .from(ledgerBooks)
    .where(and(eq(ledgerBooks.accountId, accountId), inArray(ledgerBooks.kind, kinds)));
  return Object.fromEntries(rows.map((r) => [r.kind, r.id])) as Record<AccountBookKind, string>;
}

/** System books are created on first use; `issuance` and `deposits` (credit bought on chain) may go below zero. */
export async function ensureSystemBook(db: DbOrTx, kind: SystemBookKind): Promise<string> {
  const code = systemBookCode(kind);
  const [row] = await db
    .insert(ledgerBooks)
    .values({ code, kind, allowNegative: kind === 'issuance' || kind === 'deposits' })
    .onConflictDoUpdate({ target: ledgerBooks.code, set: { code: sql`excluded.code` } })
    .returning({ id: ledgerBooks.id });
  return row.id;
}

/** The account's `payout_held` book (earnings in an on-chain payout not yet confirmed), created on first use. */
export async function ensurePayoutHeldBook(db: DbOrTx, accountId: string): Promise<string> {
  const code = `account:${accountId}:payout_held`;
  const [row] = await db
    .insert(ledgerBooks)
    .values({ code, accountId, kind: 'payout_held' })
    .onConflictDoUpdate({ target: ledgerBooks.code, set: { code: sql`excluded.code` } })
    .returning({ id: ledgerBooks.id });
  return row.id;
}

export async function accountBalances(
  db: DbOrTx,
  accountId: string,
): Promise<{ available: bigint; held: bigint; earnings: bigint }> {
  const rows = await db
    .select({ kind: ledgerBooks.kind, balance: ledgerBooks.balance })
    .from(ledgerBooks)
    .where(eq(ledgerBooks.accountId, accountId));
  const out = { available: 0n, held: 0n, earnings: 0n };
  for (const r of rows) if (r.kind in out) out[r.kind as AccountBookKind] = r.balance;
  return out;
}
