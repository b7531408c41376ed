// Datasets uploaded for fine-tuning: metadata only. The content lives in the content-addressed
// store (<dataDir>/datasets/<sha256>) and is never served; rows are soft-deleted so jobs keep them.
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts-schema.js';

export const DATASET_FORMATS = ['text', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const datasets = pgTable(
  'datasets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerAccountId: uuid('owner_account_id')
      .notNull()
      .references(() => accounts.id),
    name: text('name').notNull(),
    description: text('description'),
    format: text('format', { enum: DATASET_FORMATS }).notNull(),
    /** sha256 of the stored bytes, exactly as uploaded; also the content file's name. */
    sha256: text('sha256').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    documents: integer('documents').notNull(),
    /** GPT-2 tokens over all documents; null when the text could not be counted cheaply. */
    tokens: bigint('tokens', { mode: 'number' }),
    /** Micro-credits charged to whoever trains on it, paid to the owner. */
    pricePerJob: bigint('price_per_job', { mode: 'bigint' }).notNull(),
    /** Unlisted: only the owner's account may use or see it. Listed: anyone, at pricePerJob. */
    listed: boolean('listed').notNull().default(false),
    /** The compute-only Ocean asset this dataset is published as (null until published). */
    chainId: integer('chain_id'),
    did: text('did'),
    nftAddress: text('nft_address'),
    datatokenAddress: text('datatoken_address'),
    publishTxHashes: jsonb('publish_tx_hashes').$type<Record<string, string>>(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set by DELETE: no new job may use it; the content goes once no live row has its sha256. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    index('datasets_owner_idx').on(t.ownerAccountId, t.createdAt),
    index('datasets_listed_idx')
      .on(t.createdAt)
      .where(sql`${t.listed} AND ${t.deletedAt} IS NULL`),
    index('datasets_sha256_idx').on(t.sha256),
    check('datasets_price_non_negative', sql`${t.pricePerJob} >= 0`),
    check('datasets_sha256_hex', sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check('datasets_counts_non_negative', sql`${t.bytes} > 0 AND ${t.documents} > 0 AND (${t.tokens} IS NULL OR ${t.tokens} >= 0)`),
  ],
);
