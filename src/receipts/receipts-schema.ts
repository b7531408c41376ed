// Tables of the verifiability layer: public signing keys, the transparency log, its signed heads,
// the issued receipts and the outbox of receipts still to issue. Private keys never have a column here.
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { jobs } from '../jobs/jobs-schema.js';
import { KEY_PURPOSES, type PublicJwk } from './signing-keys.js';

export const signingKeys = pgTable(
  'signing_keys',
  {
    kid: text('kid').primaryKey(),
    purpose: text('purpose', { enum: KEY_PURPOSES }).notNull(),
    alg: text('alg', { enum: ['EdDSA'] }).notNull().default('EdDSA'),
    publicJwk: jsonb('public_jwk').$type<PublicJwk>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set on rotation; a retired key signs nothing new but stays in the JWKS so old receipts verify. */
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (t) => [
    index('signing_keys_purpose_idx').on(t.purpose, t.createdAt),
    // Defence in depth: the database itself refuses a JWK carrying any private member.
    check('signing_keys_public_only', sql`NOT (${t.publicJwk} ?| array['d','p','q','dp','dq','qi','k'])`),
    check('signing_keys_kid_matches', sql`${t.publicJwk}->>'kid' = ${t.kid}`),
  ],
);

export const logEntries = pgTable(
  'log_entries',
  {
    /** Position in the Merkle tree, from 0; assigned under an advisory lock so there is no gap. */
    idx: bigint('idx', { mode: 'number' }).primaryKey(),
    /** Hex SHA-256(0x00 || leaf data): the RFC 6962 leaf hash. */
    leafHash: text('leaf_hash').notNull(),
    receiptId: uuid('receipt_id').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('log_entries_idx_non_negative', sql`${t.idx} >= 0`),
    check('log_entries_leaf_hash_hex', sql`${t.leafHash} ~ '^[0-9a-f]{64}$'`),
  ],
);

/**
 * Roots of the log's complete perfect subtrees: (level, idx) covers leaves [idx·2^level,
 * (idx+1)·2^level); level 0 repeats the leaf hash. Written in the transaction that appends the
 * leaf completing them and never changed, so a root or proof of any size reads O(log n) rows.
 */
export const logNodes = pgTable(
  'log_nodes',
  {
    level: integer('level').notNull(),
    idx: bigint('idx', { mode: 'number' }).notNull(),
    /** Hex SHA-256: the RFC 6962 leaf hash (level 0) or node hash. */
    hash: text('hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.level, t.idx] }),
    check('log_nodes_level_range', sql`${t.level} BETWEEN 0 AND 62`),
    check('log_nodes_idx_non_negative', sql`${t.idx} >= 0`),
    check('log_nodes_hash_hex', sql`${t.hash} ~ '^[0-9a-f]{64}$'`),
  ],
);

export const treeHeads = pgTable(
  'tree_heads',
  {
    treeSize: bigint('tree_size', { mode: 'number' }).primaryKey(),
    rootHash: text('root_hash').notNull(),
    /** The signed timestamp, kept at millisecond precision so the signed payload can be rebuilt. */
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    /** The gateway's compact JWS over canonical `{ tree_size, root_hash, timestamp }`. */
    signature: text('signature').notNull(),
    anchorTxHash: text('anchor_tx_hash'),
    anchorChainId: integer('anchor_chain_id'),
  },
  (t) => [
    check('tree_heads_size_non_negative', sql`${t.treeSize} >= 0`),
    check('tree_heads_anchor_pair', sql`(${t.anchorTxHash} IS NULL) = (${t.anchorChainId} IS NULL)`),
  ],
);

export const receipts = pgTable('receipts', {
  receiptId: uuid('receipt_id').primaryKey(),
  /** One receipt per job: issuing again for the same job returns the first one. */
  jobId: uuid('job_id')
    .notNull()
    .unique()
    .references(() => jobs.id),
  logIndex: bigint('log_index', { mode: 'number' })
    .notNull()
    .unique()
    .references(() => logEntries.idx),
  /** The compact JWS exactly as signed; its bytes are the log leaf's data. */
  jws: text('jws').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Receipts still to issue: a worker writes the row in the transaction that settles a succeeded job
 * (its attestation and who ran it); the gateway signs the receipt, appends it to the log and deletes
 * the row in one transaction. A row left here (a gateway down, a failed issue) is retried, never lost.
 */
export const receiptOutbox = pgTable(
  'receipt_outbox',
  {
    jobId: uuid('job_id')
      .primaryKey()
      .references(() => jobs.id),
    /** The worker's own JWS over what it ran (worker-attestation.ts), signed with its `wk-` key. */
    attestation: text('attestation').notNull(),
    worker: jsonb('worker').$type<{ id: string; runtime: { name: string; version: string }; device: 'cpu' | 'gpu' }>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Failed issues so far, and when the sweep tries again (backing off), with the last error. */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
  },
  (t) => [index('receipt_outbox_due_idx').on(t.nextAttemptAt)],
);

/**
 * The transparency log's NFT on each chain: one for every gateway replica of the deployment, chosen
 * by the first that needs it (under a Postgres lock), so all anchors land on the NFT verifiers pin.
 */
export const logNfts = pgTable('log_nfts', {
  chainId: integer('chain_id').primaryKey(),
  nftAddress: text('nft_address').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
