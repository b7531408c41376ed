// The order pool's memory in Postgres: every order bought ahead is written when it is confirmed, and
// at start the orders this wallet paid for that no job carries yet are handed out again first. Using
// an order costs no write (the job's unique order_tx_hash records it); used and expired rows are
// pruned in the background.
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { jobs } from '../jobs/jobs-schema.js';
import type { OrderPoolStore, StoredOrder } from './order-pool.js';
import { oceanPooledOrders } from './order-pool-schema.js';

export function createOrderPoolStore(db: Db, owner: { chainId: number; consumer: string }): OrderPoolStore {
  const mine = and(eq(oceanPooledOrders.chainId, owner.chainId), eq(oceanPooledOrders.consumer, owner.consumer));
  const used = sql`EXISTS (SELECT 1 FROM ${jobs} WHERE ${jobs.orderTxHash} = ${oceanPooledOrders.txHash})`;

  return {
    async save({ target, order }) {
      await db
        .insert(oceanPooledOrders)
        .values({
          txHash: order.txHash,
          chainId: owner.chainId,
          consumer: owner.consumer,
          datatoken: order.datatokenAddress,
          serviceId: target.serviceId,
          serviceIndex: target.serviceIndex,
          blockNumber: order.blockNumber,
          blockHash: order.blockHash ?? null,
          orderedAt: order.orderedAt,
          validUntil: order.validUntil,
        })
        .onConflictDoNothing();
    },

    async load(validAfter) {
      await this.prune(validAfter);
      const rows = await db
        .select()
        .from(oceanPooledOrders)
        .where(and(mine, sql`NOT ${used}`))
        .orderBy(oceanPooledOrders.blockNumber);
      return rows.map(
        (row): StoredOrder => ({
          target: { datatokenAddress: row.datatoken, serviceId: row.serviceId, serviceIndex: row.serviceIndex },
          order: {
            txHash: row.txHash,
            blockNumber: row.blockNumber,
            ...(row.blockHash ? { blockHash: row.blockHash } : {}),
            orderedAt: row.orderedAt,
            kind: 'start',
            validUntil: row.validUntil,
            datatokenAddress: row.datatoken,
            serviceIndex: row.serviceIndex,
            consumer: row.consumer,
          },
        }),
      );
    },

    async prune(validAfter) {
      await db.delete(oceanPooledOrders).where(and(mine, sql`(${used} OR ${lt(oceanPooledOrders.validUntil, validAfter)})`));
    },
  };
}
