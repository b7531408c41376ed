// The credit ledger: every movement is one transaction of entries summing to zero, applied at most once.
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../errors/app-error.js';
import { type Db, type DbOrTx, inTransaction, type Tx } from '../db/database.js';
import { apiKeys } from '../accounts/accounts-schema.js';
import { accountBalances, type AccountBookKind, createBookCache, ensureAccountBooks, ensureSystemBook, type SystemBookKind } from './ledger-books.js';
import { holds, ledgerBooks, ledgerEntries, ledgerTransactions } from './ledger-schema.js';

type TxKind = (typeof ledgerTransactions.kind.enumValues)[number];

interface Leg {
  bookId: string;
  amount: bigint;
}

export interface PostInput {
  kind: TxKind;
  idempotencyKey: string;
  accountId?: string;
  holdId?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
  legs: Leg[];
}

export interface PostResult {
  transactionId: string;
  /** True when the idempotency key had already been posted and nothing moved now. */
  replayed: boolean;
  holdId?: string | null;
}

export interface HoldInput {
  accountId: string;
  amount: bigint;
  idempotencyKey: string;
  apiKeyId?: string;
  reason?: string;
}

export interface SettleResult {
  holdId: string;
  captured: bigint;
  released: bigint;
  replayed: boolean;
}

export class InsufficientFundsError extends AppError {
  constructor(detail: string) {
    super('insufficient_credit', detail);
  }
}

function assertPositive(amount: bigint, field: string) {
  if (amount <= 0n) throw new AppError('validation_failed', `${field} must be a positive integer`, { field });
}

/**
 * Posts one balanced transaction inside `tx`. Books are updated in id order so concurrent
 * transactions lock rows in the same order and cannot deadlock; a book that would go below
 * zero (and may not) makes the update match no row, which aborts the whole transaction.
 */
export async function post(tx: Tx, input: PostInput): Promise<PostResult> {
  const sum = input.legs.reduce((acc, leg) => acc + leg.amount, 0n);
  if (sum !== 0n) throw new Error(`ledger transaction ${input.kind} does not balance (sum ${sum})`);
  const [created] = await tx
    .insert(ledgerTransactions)
    .values({
      kind: input.kind,
      idempotencyKey: input.idempotencyKey,
      accountId: input.accountId,
      holdId: input.holdId,
      reason: input.reason,
      metadata: input.metadata,
    })
    .onConflictDoNothing({ target: ledgerTransactions.idempotencyKey })
    .returning({ id: ledgerTransactions.id });
  if (!created) {
    const [existing] = await tx
      .select({ id: ledgerTransactions.id, holdId: ledgerTransactions.holdId })
      .from(ledgerTransactions)
      .where(eq(ledgerTransactions.idempotencyKey, input.idempotencyKey));
    return { transactionId: existing.id, holdId: existing.holdId, replayed: true };
  }
  const legs = input.legs.filter((l) => l.amount !== 0n).sort((a, b) => (a.bookId < b.bookId ? -1 : 1));
  const entries: (typeof ledgerEntries.$inferInsert)[] = [];
  for (const leg of legs) {
    const [book] = await tx
      .update(ledgerBooks)
      .set({ balance: sql`${ledgerBooks.balance} + ${leg.amount}` })
      .where(
        and(
          eq(ledgerBooks.id, leg.bookId),
          sql`(${ledgerBooks.allowNegative} OR ${ledgerBooks.balance} + ${leg.amount} >= 0)`,
        ),
      )
      .returning({ balance: ledgerBooks.balance });
    if (!book) throw new InsufficientFundsError('the available balance does not cover this amount');
    entries.push({ transactionId: created.id, bookId: leg.bookId, amount: leg.amount, balanceAfter: book.balance });
  }
  // The entries in one statement: the books above are updated one by one, in id order, for the locks.
  if (entries.length > 0) await tx.insert(ledgerEntries).values(entries);
  return { transactionId: created.id, replayed: false };
}

export function createLedger({ db }: { db: Db }) {
  const bookCache = createBookCache();
  return {
    /** The account's book ids (created if missing), cached once known to be committed. */
    accountBooks: (tx: DbOrTx, accountId: string): Promise<Record<AccountBookKind, string>> => ensureAccountBooks(tx, accountId, bookCache),
    /** A system book's id (created if missing), cached once known to be committed. */
    systemBook: (tx: DbOrTx, kind: SystemBookKind): Promise<string> => ensureSystemBook(tx, kind, bookCache),

    async grant(
      input: { accountId: string; amount: bigint; reason: string; idempotencyKey: string },
      on: DbOrTx = db,
    ): Promise<PostResult & { balance: bigint }> {
      assertPositive(input.amount, 'amount');
      return inTransaction(on, async (tx) => {
        const books = await ensureAccountBooks(tx, input.accountId, bookCache);
        const issuance = await ensureSystemBook(tx, 'issuance', bookCache);
        const result = await post(tx, {
          kind: 'grant',
          idempotencyKey: `grant:${input.idempotencyKey}`,
          accountId: input.accountId,
          reason: input.reason,
          legs: [
            { bookId: issuance, amount: -input.amount },
            { bookId: books.available, amount: input.amount },
          ],
        });
        const { available } = await accountBalances(tx, input.accountId);
        return { ...result, balance: available };
      });
    },

    /**
     * Reserves `amount` from the account's available credit (and from the key's spend cap).
     * Replays return the hold created by the first call with the same idempotency key.
     */
    async hold(input: HoldInput, on: DbOrTx = db): Promise<{ holdId: string; replayed: boolean }> {
      assertPositive(input.amount, 'amount');
      return inTransaction(on, async (tx) => {
        const books = await ensureAccountBooks(tx, input.accountId, bookCache);
        // The ledger row is written first: a concurrent retry with the same key waits on it and
        // then finds it, so a hold is created once however many times the call is repeated.
        const holdId = randomUUID();
        const result = await post(tx, {
          kind: 'hold',
          idempotencyKey: `hold:${input.idempotencyKey}`,
          accountId: input.accountId,
          holdId,
          reason: input.reason,
          legs: [
            { bookId: books.available, amount: -input.amount },
            { bookId: books.held, amount: input.amount },
          ],
        });
        if (result.replayed) return { holdId: result.holdId ?? holdId, replayed: true };
        await tx
          .insert(holds)
          .values({ id: holdId, accountId: input.accountId, apiKeyId: input.apiKeyId, amount: input.amount, reason: input.reason });
        if (input.apiKeyId) await reserveKeySpend(tx, input.apiKeyId, input.amount);
        return { holdId, replayed: false };
      });
    },

    /**
     * Captures `capture` micro-credits of an open hold into `payees` (marketplace by default)
     * and releases the rest to the account, exactly once: a second call changes nothing.
     */
    async settle(
      input: { holdId: string; capture: bigint; payees?: { bookId: string; amount: bigint }[] },
      on: DbOrTx = db,
    ): Promise<SettleResult> {
      return inTransaction(on, async (tx) => {
        const [hold] = await tx.select().from(holds).where(eq(holds.id, input.holdId)).for('update');
        if (!hold) throw new AppError('not_found', 'hold not found');
        if (hold.status === 'settled') {
          return { holdId: hold.id, captured: hold.captured, released: hold.released, replayed: true };
        }
        const capture = input.capture < 0n ? 0n : input.capture > hold.amount ? hold.amount : input.capture;
        const release = hold.amount - capture;
        const books = await ensureAccountBooks(tx, hold.accountId, bookCache);
        const payees = input.payees?.length
          ? input.payees
          : [{ bookId: await ensureSystemBook(tx, 'marketplace', bookCache), amount: capture }];
        const paid = payees.reduce((acc, p) => acc + p.amount, 0n);
        if (paid !== capture) throw new Error(`payees receive ${paid}, capture is ${capture}`);
        await post(tx, {
          kind: 'settle',
          idempotencyKey: `settle:${hold.id}`,
          accountId: hold.accountId,
          holdId: hold.id,
          legs: [
            { bookId: books.held, amount: -hold.amount },
            { bookId: books.available, amount: release },
            ...payees,
          ],
        });
        if (hold.apiKeyId && release > 0n) await releaseKeySpend(tx, hold.apiKeyId, release);
        await tx
          .update(holds)
          .set({ status: 'settled', captured: capture, released: release, settledAt: new Date() })
          .where(eq(holds.id, hold.id));
        return { holdId: hold.id, captured: capture, released: release, replayed: false };
      });
    },

    /** Releases an open hold in full (a job that failed or was cancelled before running). */
    async release(holdId: string, on: DbOrTx = db): Promise<SettleResult> {
      return this.settle({ holdId, capture: 0n }, on);
    },

    balances(accountId: string, on: DbOrTx = db) {
      return accountBalances(on, accountId);
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;

async function reserveKeySpend(tx: Tx, apiKeyId: string, amount: bigint) {
  const [row] = await tx
    .update(apiKeys)
    .set({ spent: sql`${apiKeys.spent} + ${amount}` })
    .where(
      and(eq(apiKeys.id, apiKeyId), sql`(${apiKeys.spendCap} IS NULL OR ${apiKeys.spent} + ${amount} <= ${apiKeys.spendCap})`),
    )
    .returning({ id: apiKeys.id });
  if (!row) throw new AppError('spend_cap_exceeded', "this request would exceed the API key's spend cap");
}

async function releaseKeySpend(tx: Tx, apiKeyId: string, amount: bigint) {
  await tx
    .update(apiKeys)
    .set({ spent: sql`GREATEST(${apiKeys.spent} - ${amount}, 0)` })
    .where(eq(apiKeys.id, apiKeyId));
}
