// Finds or creates the books (balances) that ledger transactions move credit between.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { ledgerBooks } from './ledger-schema.js';

export type AccountBookKind = 'available' | 'held' | 'earnings';
export type SystemBookKind = 'issuance' | 'marketplace' | 'deposits' | 'payouts';

export const accountBookCode = (accountId: string, kind: AccountBookKind) => `account:${accountId}:${kind}`;
export const systemBookCode = (kind: SystemBookKind) => `system:${kind}`;

/**
 * Book ids never change once a book exists (its code is unique and books are never deleted), so ids
 * read from committed rows are cached per process: the hot path then skips the upsert round trips,
 * and settlements no longer queue on the marketplace book's row lock just to learn its id. Only ids
 * known to be committed are cached: a row this transaction inserted could still roll back.
 */
export interface BookCache {
  accounts: Map<string, Record<AccountBookKind, string>>;
  system: Map<SystemBookKind, string>;
}

/** One cache per database: the ledger of an app owns one (ids differ between databases). */
export function createBookCache(): BookCache {
  return { accounts: new Map(), system: new Map() };
}

const ACCOUNT_CACHE_LIMIT = 100_000;

/** Creates the account's books if missing and returns their ids by kind. */
export async function ensureAccountBooks(
  db: DbOrTx,
  accountId: string,
  cache?: BookCache,
): Promise<Record<AccountBookKind, string>> {
  const cached = cache?.accounts.get(accountId);
  if (cached) return cached;
  const kinds: AccountBookKind[] = ['available', 'held', 'earnings'];
  const inserted = await db
    .insert(ledgerBooks)
    .values(kinds.map((kind) => ({ code: accountBookCode(accountId, kind), accountId, kind })))
    .onConflictDoNothing({ target: ledgerBooks.code })
    .returning({ id: ledgerBooks.id });
  const rows = await db
    .select({ id: ledgerBooks.id, kind: ledgerBooks.kind })
    .from(ledgerBooks)
    .where(and(eq(ledgerBooks.accountId, accountId), inArray(ledgerBooks.kind, kinds)));
  const books = Object.fromEntries(rows.map((r) => [r.kind, r.id])) as Record<AccountBookKind, string>;
  // Nothing inserted: all three were there already, committed (a conflict waits for the other writer).
  if (cache && inserted.length === 0 && rows.length === kinds.length) {
    if (cache.accounts.size >= ACCOUNT_CACHE_LIMIT) cache.accounts.clear();
    cache.accounts.set(accountId, books);
  }
  return books;
}

/** System books are created on first use; `issuance` and `deposits` (credit bought on chain) may go below zero. */
export async function ensureSystemBook(db: DbOrTx, kind: SystemBookKind, cache?: BookCache): Promise<string> {
  const cached = cache?.system.get(kind);
  if (cached) return cached;
  const code = systemBookCode(kind);
  const [created] = await db
    .insert(ledgerBooks)
    .values({ code, kind, allowNegative: kind === 'issuance' || kind === 'deposits' })
    .onConflictDoNothing({ target: ledgerBooks.code })
    .returning({ id: ledgerBooks.id });
  if (created) return created.id;
  const [row] = await db.select({ id: ledgerBooks.id }).from(ledgerBooks).where(eq(ledgerBooks.code, code));
  cache?.system.set(kind, row.id);
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
