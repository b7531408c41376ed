// Tables for wallet access: sign-in nonces, addresses bound to accounts, on-chain deposits and payouts,
// and the chain watcher's cursor. Token amounts are uint256 on chain: numeric(78, 0), read as bigint.
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, numeric, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts-schema.js';

/** A Sign-In with Ethereum nonce: issued once, consumed at most once, before it expires. */
export const siweNonces = pgTable(
  'siwe_nonces',
  {
    nonce: text('nonce').primaryKey(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [index('siwe_nonces_expires_idx').on(t.expiresAt)],
);

/** The address an account signs in with (EIP-55 checksummed); one address per account, one account per address. */
export const accountWallets = pgTable('account_wallets', {
  address: text('address').primaryKey(),
  accountId: uuid('account_id')
    .notNull()
    .unique()
    .references(() => accounts.id),
  boundAt: timestamp('bound_at', { withTimezone: true }).notNull().defaultNow(),
});

/** How far a watcher has read a chain: the last block scanned and its hash (a changed hash is a reorg). */
export const chainCursors = pgTable('chain_cursors', {
  name: text('name').primaryKey(),
  chainId: integer('chain_id').notNull(),
  blockNumber: bigint('block_number', { mode: 'number' }).notNull(),
  blockHash: text('block_hash').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const DEPOSIT_STATUSES = ['pending', 'credited', 'unclaimed', 'dropped', 'reversed'] as const;
export type DepositStatus = (typeof DEPOSIT_STATUSES)[number];

/**
 * One token transfer to the treasury, seen on chain. `pending` until it has the configured
 * confirmations; then `credited` to the account bound to the sender, or `unclaimed` while no account
 * is bound to it. `dropped`: a reorg removed it before it was credited; `reversed`: after.
 */
export const walletDeposits = pgTable(
  'wallet_deposits',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    chainId: integer('chain_id').notNull(),
    txHash: text('tx_hash').notNull(),
    logIndex: integer('log_index').notNull(),
    blockNumber: bigint('block_number', { mode: 'number' }).notNull(),
    blockHash: text('block_hash').notNull(),
    token: text('token').notNull(),
    fromAddress: text('from_address').notNull(),
    toAddress: text('to_address').notNull(),
    amountWei: numeric('amount_wei', { precision: 78, scale: 0, mode: 'bigint' }).notNull(),
    /** What the transfer buys at the configured rate, fixed when it is first seen. */
    microCredits: bigint('micro_credits', { mode: 'bigint' }).notNull(),
    status: text('status', { enum: DEPOSIT_STATUSES }).notNull().default('pending'),
    accountId: uuid('account_id').references(() => accounts.id),
    ledgerTransactionId: uuid('ledger_transaction_id'),
    reversalTransactionId: uuid('reversal_transaction_id'),
    seenAt: timestamp('seen_at', { withTimezone: true }).notNull().defaultNow(),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('wallet_deposits_log_uniq').on(t.chainId, t.txHash, t.logIndex),
    index('wallet_deposits_status_idx').on(t.status),
    index('wallet_deposits_from_idx').on(t.fromAddress),
    index('wallet_deposits_account_idx').on(t.accountId),
    check('wallet_deposits_credits_non_negative', sql`${t.microCredits} >= 0`),
  ],
);

export const PAYOUT_STATUSES = ['queued', 'sent', 'settled', 'released'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/**
 * A withdrawal of earnings to the account's bound address. `queued` (earnings held), `sent` (a signed
 * transfer stored, then broadcast: rebroadcasting it can never pay twice), then `settled` on
 * confirmation or `released` (the hold returned) if the transfer failed. Payouts due to the same
 * address at once share one transfer (`tx_hash`).
 */
export const walletPayouts = pgTable(
  'wallet_payouts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
    address: text('address').notNull(),
    chainId: integer('chain_id').notNull(),
    token: text('token').notNull(),
    microCredits: bigint('micro_credits', { mode: 'bigint' }).notNull(),
    amountWei: numeric('amount_wei', { precision: 78, scale: 0, mode: 'bigint' }).notNull(),
    status: text('status', { enum: PAYOUT_STATUSES }).notNull().default('queued'),
    txHash: text('tx_hash'),
    txNonce: integer('tx_nonce'),
    /** The signed transfer, stored before it is broadcast. */
    rawTx: text('raw_tx'),
    holdTransactionId: uuid('hold_transaction_id').notNull(),
    settleTransactionId: uuid('settle_transaction_id'),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    index('wallet_payouts_account_idx').on(t.accountId, t.createdAt),
    index('wallet_payouts_status_idx').on(t.status),
    index('wallet_payouts_tx_idx').on(t.txHash),
    check('wallet_payouts_amount_positive', sql`${t.microCredits} > 0`),
  ],
);
