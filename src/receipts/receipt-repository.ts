// Reads receipts for their owners: a receipt is visible to the account whose job it proves.
import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { jobs } from '../jobs/jobs-schema.js';
import { receipts } from './receipts-schema.js';

export function createReceiptRepository(db: DbOrTx) {
  return {
    /** The receipt `receiptId` if it belongs to a job of `accountId`; another tenant's reads as absent. */
    async findForAccount(receiptId: string, accountId: string) {
      const [row] = await db
        .select({ receiptId: receipts.receiptId, jobId: receipts.jobId, logIndex: receipts.logIndex, jws: receipts.jws })
        .from(receipts)
        .innerJoin(jobs, eq(jobs.id, receipts.jobId))
        .where(and(eq(receipts.receiptId, receiptId), eq(jobs.accountId, accountId)));
      return row;
    },
  };
}
