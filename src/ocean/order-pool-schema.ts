// Orders bought ahead and not yet attached to a job: kept in Postgres so none is lost when the
// gateway stops. A row whose tx hash is on a job (jobs.order_tx_hash) has been used.
import { bigint, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const oceanPooledOrders = pgTable(
  'ocean_pooled_orders',
  {
    txHash: text('tx_hash').primaryKey(),
    chainId: integer('chain_id').notNull(),
    /** The gateway wallet that paid (each replica has its own, and only reuses its own orders). */
    consumer: text('consumer').notNull(),
    datatoken: text('datatoken').notNull(),
    serviceId: text('service_id').notNull(),
    serviceIndex: integer('service_index').notNull(),
    blockNumber: integer('block_number').notNull(),
    /** The block it was confirmed in (null for rows written before it was kept). */
    blockHash: text('block_hash'),
    /** Unix seconds of the start order's block. */
    orderedAt: bigint('ordered_at', { mode: 'number' }).notNull(),
    /** Unix seconds until which the provider fee holds. */
    validUntil: bigint('valid_until', { mode: 'number' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('ocean_pooled_orders_owner_idx').on(t.chainId, t.consumer)],
);
