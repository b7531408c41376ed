// Double-entry ledger tables: books with balances, transactions whose entries sum to zero, and holds.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { accounts, apiKeys } from '../accounts/accounts-schema.js';

/**
 * A book is one balance: an account's `available` or `held` credit, or a system book
 * (`issuance` is where granted credit comes from and may go negative; `marketplace` earns fees).
 * Wallet books: `deposits` is where credit bought on chain comes from (may go negative, like
 * `issuance`), `payouts` what left on chain to owners, and an account's `payout_held` its earnings
 * on their way to its wallet.
 */
export const ledgerBooks = pgTable(
  'ledger_books',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    code: text('code').notNull().unique(),
    accountId: uuid('account_id').references(() => accounts.id),
    kind: text('kind', { enum: ['available', 'held', 'issuance', 'marketplace', 'earnings', 'payout_held', 'deposits', 'payouts'] }).notNull(),
    balance: bigint('balance', { mode: 'bigint' }).notNull().default(sql`0`),
    allowNegative: boolean('allow_negative').notNull().default(false),
  },
  (t) => [
    index('ledger_books_account_idx').on(t.accountId),
    check('ledger_books_no_overdraft', sql`${t.allowNegative} OR ${t.balance} >= 0`),
  ],
);

export const ledgerTransactions = pgTable(
  'ledger_transactions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', {
      enum: ['grant', 'hold', 'capture', 'release', 'settle', 'deposit', 'deposit_reversal', 'payout_hold', 'payout_settle', 'payout_release'],
    }).notNull(),
    /** Makes every movement happen at most once, whatever the retries. */
    idempotencyKey: text('idempotency_key').notNull().unique(),
    accountId: uuid('account_id').references(() => accounts.id),
    holdId: uuid('hold_id'),
    reason: text('reason'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('ledger_transactions_account_idx').on(t.accountId)],
);

export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    transactionId: uuid('transaction_id')
      .notNull()
      .references(() => ledgerTransactions.id),
    bookId: uuid('book_id')
      .notNull()
      .references(() => ledgerBooks.id),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    balanceAfter: bigint('balance_after', { mode: 'bigint' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('ledger_entries_book_idx').on(t.bookId, t.id), index('ledger_entries_tx_idx').on(t.transactionId)],
);

export const holds = pgTable(
  'holds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
    apiKeyId: uuid('api_key_id').references(() => apiKeys.id),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    captured: bigint('captured', { mode: 'bigint' }).notNull().default(sql`0`),
    released: bigint('released', { mode: 'bigint' }).notNull().default(sql`0`),
    status: text('status', { enum: ['open', 'settled'] }).notNull().default('open'),
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    index('holds_account_idx').on(t.accountId),
    check('holds_amount_positive', sql`${t.amount} > 0`),
    check('holds_within_amount', sql`${t.captured} + ${t.released} <= ${t.amount}`),
  ],
);
