// The credit ledger: every movement is one transaction of entries summing to zero, applied at most once.
import { randomUUID } from 'node:crypto';
import { eq, type SQL, sql } from 'drizzle-orm';
import { AppError } from '../errors/app-error.js';
import { type Db, type DbOrTx, inTransaction, rowsOf, type Tx } from '../db/database.js';
import { accountBalances, type AccountBookKind, createBookCache, ensureAccountBooks, ensureSystemBook, type SystemBookKind } from './ledger-books.js';
import { holds, ledgerTransactions } from './ledger-schema.js';

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

/** A statement written with a posting, run only when the posting is new (it may read CTE `t`, the new transaction's id). */
interface Alongside {
  sql: SQL;
  /** Counted in the answer (its RETURNING rows), under its index. */
  counted?: boolean;
}

interface Posted {
  result: PostResult;
  /** RETURNING rows of each counted `alongside` statement, in order. */
  counts: number[];
}

/**
 * Posts one balanced transaction inside `tx` in one statement: the transaction row, the books'
 * balances and the entries, and `alongside` (a hold's row, a key's spend). The books are locked in
 * id order before any is updated (a materialised `FOR UPDATE … ORDER BY id`, read in full by a
 * one-time filter), so concurrent postings wait in one order and cannot deadlock; a book that
 * would go below zero (and may not) is not updated, and the posting throws, aborting `tx`.
 */
async function postOnce(tx: Tx, input: PostInput, alongside: Alongside[] = []): Promise<Posted> {
  const sum = input.legs.reduce((acc, leg) => acc + leg.amount, 0n);
  if (sum !== 0n) throw new Error(`ledger transaction ${input.kind} does not balance (sum ${sum})`);
  // One leg per book (two legs on one book move its balance by their sum).
  const byBook = new Map<string, bigint>();
  for (const leg of input.legs) byBook.set(leg.bookId, (byBook.get(leg.bookId) ?? 0n) + leg.amount);
  const legs = [...byBook].filter(([, amount]) => amount !== 0n).map(([book_id, amount]) => ({ book_id, amount: amount.toString() }));
  const counted = alongside.flatMap((a, i) => (a.counted ? [i] : []));
  const result = await tx.execute(sql`
    WITH legs AS MATERIALIZED (
      SELECT book_id, amount FROM jsonb_to_recordset(${JSON.stringify(legs)}::jsonb) AS l(book_id uuid, amount bigint)
    ), t AS (
      INSERT INTO ledger_transactions (kind, idempotency_key, account_id, hold_id, reason, metadata)
      VALUES (${input.kind}, ${input.idempotencyKey}, ${input.accountId ?? null}, ${input.holdId ?? null}, ${input.reason ?? null},
        ${input.metadata === undefined ? null : JSON.stringify(input.metadata)}::jsonb)
      ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
    ), locked AS MATERIALIZED (
      SELECT b.id FROM ledger_books b WHERE b.id IN (SELECT book_id FROM legs) AND EXISTS (SELECT 1 FROM t) ORDER BY b.id FOR UPDATE OF b
    ), u AS (
      UPDATE ledger_books b SET balance = b.balance + l.amount FROM legs l
      WHERE b.id = l.book_id AND (SELECT count(*) FROM locked) > 0 AND (b.allow_negative OR b.balance + l.amount >= 0)
      RETURNING b.id, b.balance, l.amount
    ), e AS (
      INSERT INTO ledger_entries (transaction_id, book_id, amount, balance_after) SELECT t.id, u.id, u.amount, u.balance FROM t CROSS JOIN u
    )${sql.join(
      alongside.map((a, i) => sql`, ${sql.raw(`a${i}`)} AS (${a.sql})`),
      sql``,
    )}
    SELECT (SELECT id FROM t) AS created, (SELECT count(*) FROM u)::int AS updated${sql.join(
      counted.map((i) => sql`, (SELECT count(*) FROM ${sql.raw(`a${i}`)})::int AS ${sql.raw(`a${i}`)}`),
      sql``,
    )}`);
  const [row] = rowsOf(result as unknown as { rows: Record<string, string | number | null>[] });
  const created = row?.created as string | null;
  if (!created) {
    const [existing] = await tx
      .select({ id: ledgerTransactions.id, holdId: ledgerTransactions.holdId })
      .from(ledgerTransactions)
      .where(eq(ledgerTransactions.idempotencyKey, input.idempotencyKey));
    return { result: { transactionId: existing.id, holdId: existing.holdId, replayed: true }, counts: [] };
  }
  if (Number(row.updated) !== legs.length) throw new InsufficientFundsError('the available balance does not cover this amount');
  return { result: { transactionId: created, replayed: false }, counts: counted.map((i) => Number(row[`a${i}`])) };
}

/** Posts one balanced transaction inside `tx` (one statement; see postOnce). */
export async function post(tx: Tx, input: PostInput): Promise<PostResult> {
  return (await postOnce(tx, input)).result;
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
        const { result, counts } = await postOnce(
          tx,
          {
            kind: 'hold',
            idempotencyKey: `hold:${input.idempotencyKey}`,
            accountId: input.accountId,
            holdId,
            reason: input.reason,
            legs: [
              { bookId: books.available, amount: -input.amount },
              { bookId: books.held, amount: input.amount },
            ],
          },
          [
            {
              sql: sql`INSERT INTO holds (id, account_id, api_key_id, amount, reason)
                SELECT ${holdId}::uuid, ${input.accountId}::uuid, ${input.apiKeyId ?? null}::uuid, ${input.amount}::bigint, ${input.reason ?? null} FROM t`,
            },
            ...(input.apiKeyId ? [{ sql: reserveKeySpend(input.apiKeyId, input.amount), counted: true }] : []),
          ],
        );
        if (result.replayed) return { holdId: result.holdId ?? holdId, replayed: true };
        if (input.apiKeyId && counts[0] !== 1) throw new AppError('spend_cap_exceeded', "this request would exceed the API key's spend cap");
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
        await postOnce(
          tx,
          {
            kind: 'settle',
            idempotencyKey: `settle:${hold.id}`,
            accountId: hold.accountId,
            holdId: hold.id,
            legs: [
              { bookId: books.held, amount: -hold.amount },
              { bookId: books.available, amount: release },
              ...payees,
            ],
          },
          [
            ...(hold.apiKeyId && release > 0n ? [{ sql: releaseKeySpend(hold.apiKeyId, release) }] : []),
            {
              sql: sql`UPDATE holds SET status = 'settled', captured = ${capture}::bigint, released = ${release}::bigint, settled_at = now()
                WHERE id = ${hold.id}::uuid`,
            },
          ],
        );
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

/** Adds to a key's spend within its cap; returns a row only when the cap allows it (run alongside a hold). */
function reserveKeySpend(apiKeyId: string, amount: bigint): SQL {
  return sql`UPDATE api_keys SET spent = spent + ${amount}::bigint
    WHERE id = ${apiKeyId}::uuid AND (spend_cap IS NULL OR spent + ${amount}::bigint <= spend_cap) RETURNING 1`;
}

/** Gives released credit back to a key's spend (run alongside a settle). */
function releaseKeySpend(apiKeyId: string, amount: bigint): SQL {
  return sql`UPDATE api_keys SET spent = GREATEST(spent - ${amount}::bigint, 0) WHERE id = ${apiKeyId}::uuid`;
}
