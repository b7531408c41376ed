// Reads an account's ledger entries newest first, with an opaque cursor.
import { and, desc, eq, lt } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { ledgerBooks, ledgerEntries, ledgerTransactions } from './ledger-schema.js';

export function encodeCursor(id: bigint): string {
  return Buffer.from(`e:${id}`).toString('base64url');
}

const MAX_INT8 = 2n ** 63n - 1n;

export function decodeCursor(cursor: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^e:([1-9]\d{0,18})$/.exec(text);
  // Entry ids are int8: a larger number was never issued (and Postgres would refuse to compare it).
  if (!match || BigInt(match[1]) > MAX_INT8 || encodeCursor(BigInt(match[1])) !== cursor) {
    throw new AppError('validation_failed', 'cursor is not one this API returned', { field: 'querystring.cursor' });
  }
  return BigInt(match[1]);
}

export async function listAccountEntries(db: DbOrTx, accountId: string, page: { limit: number; cursor?: string }) {
  const before = page.cursor ? decodeCursor(page.cursor) : undefined;
  const rows = await db
    .select({
      id: ledgerEntries.id,
      transactionId: ledgerEntries.transactionId,
      kind: ledgerTransactions.kind,
      book: ledgerBooks.kind,
      amount: ledgerEntries.amount,
      balanceAfter: ledgerEntries.balanceAfter,
      reason: ledgerTransactions.reason,
      holdId: ledgerTransactions.holdId,
      createdAt: ledgerEntries.createdAt,
    })
    .from(ledgerEntries)
    .innerJoin(ledgerBooks, eq(ledgerBooks.id, ledgerEntries.bookId))
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerEntries.transactionId))
    .where(and(eq(ledgerBooks.accountId, accountId), before === undefined ? undefined : lt(ledgerEntries.id, before)))
    .orderBy(desc(ledgerEntries.id))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const data = more ? rows.slice(0, page.limit) : rows;
  return { data, nextCursor: more ? encodeCursor(data[data.length - 1].id) : null };
}
