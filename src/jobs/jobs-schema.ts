// Jobs: one row per inference or evaluation request, the source of truth the queue only points at.
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { accounts, apiKeys } from '../accounts/accounts-schema.js';
import { holds } from '../credits/ledger-schema.js';
import { models } from '../models/models-schema.js';

export const JOB_KINDS = ['infer', 'evaluate', 'finetune'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: JOB_KINDS }).notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull().default('queued'),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id),
    apiKeyId: uuid('api_key_id').references(() => apiKeys.id),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    weightsSha256: text('weights_sha256').notNull(),
    /** The validated request: input text(s) and decoding parameters. */
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    inputTokens: integer('input_tokens').notNull(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    outputTokens: integer('output_tokens'),
    /** Null only for free models (nothing to hold). */
    holdId: uuid('hold_id').references(() => holds.id),
    /** Prices fixed at submission, so a price change never alters a job already accepted. */
    pricePerJob: bigint('price_per_job', { mode: 'bigint' }).notNull(),
    pricePer1kTokens: bigint('price_per_1k_tokens', { mode: 'bigint' }).notNull(),
    maxCost: bigint('max_cost', { mode: 'bigint' }).notNull(),
    cost: bigint('cost', { mode: 'bigint' }),
    /** The Ocean order paying for this job; one order serves one job (unique). */
    orderTxHash: text('order_tx_hash'),
    orderChainId: integer('order_chain_id'),
    /** The block the order was confirmed in when attached: a worker tells a reorged order from a forged one by it. */
    orderBlockHash: text('order_block_hash'),
    attempts: integer('attempts').notNull().default(0),
    workerId: text('worker_id'),
    cancelRequestedAt: timestamp('cancel_requested_at', { withTimezone: true }),
    computeMs: integer('compute_ms'),
    /** A long job's latest progress (fine-tuning: step, steps, loss, tokens/s), written as it runs. */
    progress: jsonb('progress').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('jobs_account_idx').on(t.accountId, t.createdAt),
    index('jobs_unfinished_idx')
      .on(t.status)
      .where(sql`${t.status} IN ('queued', 'running')`),
    /** The catalog's per-model usage counts (GET /v1/models) read only the succeeded rows of each model. */
    index('jobs_model_succeeded_idx')
      .on(t.modelId, t.finishedAt)
      .where(sql`${t.status} = 'succeeded'`),
    uniqueIndex('jobs_order_tx_unique').on(t.orderTxHash).where(sql`${t.orderTxHash} IS NOT NULL`),
    check('jobs_cost_within_hold', sql`${t.cost} IS NULL OR ${t.cost} <= ${t.maxCost}`),
  ],
);
