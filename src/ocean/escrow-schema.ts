// Payments for jobs run on an external Ocean compute node through Ocean's Escrow contract (C2D v2):
// one row per job, kept in step with the chain by the escrow reconciler (src/ocean/escrow-reconciler.ts).
import { sql } from 'drizzle-orm';
import { check, index, integer, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { jobs } from '../jobs/jobs-schema.js';

export const ESCROW_PAYMENT_STATUSES = ['pending', 'locked', 'claimed', 'canceled', 'failed'] as const;
export type EscrowPaymentStatus = (typeof ESCROW_PAYMENT_STATUSES)[number];

/**
 * `pending`: the job was sent to the node, its lock not seen yet; `locked`: the node's lock is on chain;
 * `claimed`: the node claimed (claimed_amount may be less than amount, the rest went back to available);
 * `canceled`: the lock expired unclaimed and was canceled (refunded); `failed`: no lock was ever made.
 * Amounts are uint256 token base units: numeric(78, 0), read as decimal strings.
 */
export const escrowPayments = pgTable(
  'escrow_payments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    jobId: uuid('job_id')
      .notNull()
      .unique()
      .references(() => jobs.id),
    chainId: integer('chain_id').notNull(),
    escrowAddress: text('escrow_address').notNull(),
    /** All addresses EIP-55 checksummed. */
    token: text('token').notNull(),
    payer: text('payer').notNull(),
    payee: text('payee').notNull(),
    /** The compute node's own id for the job. */
    nodeJobId: text('node_job_id'),
    /** The lock's jobId on chain (uint256 as a decimal string); null until known. */
    escrowJobId: text('escrow_job_id'),
    amount: numeric('amount', { precision: 78, scale: 0 }).notNull(),
    claimedAmount: numeric('claimed_amount', { precision: 78, scale: 0 }),
    status: text('status', { enum: ESCROW_PAYMENT_STATUSES }).notNull().default('pending'),
    lockTx: text('lock_tx'),
    claimTx: text('claim_tx'),
    cancelTx: text('cancel_tx'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('escrow_payments_open_idx')
      .on(t.chainId, t.payer, t.status)
      .where(sql`${t.status} IN ('pending', 'locked')`),
    index('escrow_payments_escrow_job_idx').on(t.chainId, t.escrowAddress, t.escrowJobId),
    check('escrow_payments_status', sql`${t.status} IN ('pending', 'locked', 'claimed', 'canceled', 'failed')`),
    check('escrow_payments_amount_non_negative', sql`${t.amount} >= 0`),
    check(
      'escrow_payments_claimed_within_amount',
      sql`${t.claimedAmount} IS NULL OR (${t.claimedAmount} >= 0 AND ${t.claimedAmount} <= ${t.amount})`,
    ),
  ],
);
