// The model registry: what each model is, where its weights live (by sha256), and what it costs.
import { sql } from 'drizzle-orm';
import { bigint, check, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { accounts } from '../accounts/accounts-schema.js';

export const COMPUTE_BACKENDS = ['marketplace', 'ocean-node'] as const;
export type ComputeBackend = (typeof COMPUTE_BACKENDS)[number];

export const models = pgTable(
  'models',
  {
    /** URL-safe slug, e.g. `tiny-gpt2`. */
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    taskKinds: text('task_kinds').array().notNull(),
    weightsSha256: text('weights_sha256').notNull(),
    /** Folder in the content-addressed weights store; never exposed by the API. */
    storagePath: text('storage_path').notNull(),
    contextLength: integer('context_length').notNull(),
    architecture: jsonb('architecture').$type<Record<string, unknown>>().notNull(),
    pricePerJob: bigint('price_per_job', { mode: 'bigint' }).notNull(),
    pricePer1kTokens: bigint('price_per_1k_tokens', { mode: 'bigint' }).notNull(),
    ownerAccountId: uuid('owner_account_id').references(() => accounts.id),
    parentModelId: text('parent_model_id'),
    /**
     * Lineage royalty: the share (basis points) of the owners' part of a derived model's revenue that
     * goes to this model's owner, for every model fine-tuned from it (directly or further down).
     */
    royaltyBps: integer('royalty_bps').notNull().default(0),
    /** The Ocean asset this model is published as (null until published on the current chain). */
    chainId: integer('chain_id'),
    did: text('did'),
    nftAddress: text('nft_address'),
    datatokenAddress: text('datatoken_address'),
    serviceId: text('service_id'),
    /** Price of one datatoken in OCEAN (decimal string) on a fixed-rate exchange; null = free (dispenser). */
    oceanPrice: text('ocean_price'),
    /** Seconds an order for this model stays usable (the compute service's timeout). */
    serviceTimeout: integer('service_timeout'),
    publishTxHashes: jsonb('publish_tx_hashes').$type<Record<string, string>>(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    /** Replay audits of this model's jobs whose output differed: a mark against whoever served it. */
    auditMismatches: integer('audit_mismatches').notNull().default(0),
    /** Where its jobs run: the gateway's own workers, or an external Ocean compute node paid through Escrow. */
    computeBackend: text('compute_backend', { enum: COMPUTE_BACKENDS }).notNull().default('marketplace'),
    /** The Ocean compute node's base URL; set exactly when compute_backend is 'ocean-node'. */
    computeNodeUrl: text('compute_node_url'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('models_prices_non_negative', sql`${t.pricePerJob} >= 0 AND ${t.pricePer1kTokens} >= 0`),
    check('models_royalty_bps_range', sql`${t.royaltyBps} >= 0 AND ${t.royaltyBps} <= 2000`),
    check('models_id_slug', sql`${t.id} ~ '^[a-z0-9][a-z0-9._-]{0,63}$'`),
    check('models_compute_backend', sql`${t.computeBackend} IN ('marketplace', 'ocean-node')`),
    check(
      'models_compute_node_url',
      sql`(${t.computeBackend} = 'ocean-node') = (${t.computeNodeUrl} IS NOT NULL)`,
    ),
  ],
);

