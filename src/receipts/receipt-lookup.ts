// Finds the receipts of jobs, for job answers.
import { inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { receipts } from './receipts-schema.js';

export interface ReceiptRef {
  receiptId: string;
  jobId: string;
  logIndex: number;
  jws: string;
}

export async function receiptsForJobs(db: DbOrTx, jobIds: string[]): Promise<Map<string, ReceiptRef>> {
  if (jobIds.length === 0) return new Map();
  const rows = await db
    .select({ receiptId: receipts.receiptId, jobId: receipts.jobId, logIndex: receipts.logIndex, jws: receipts.jws })
    .from(receipts)
    .where(inArray(receipts.jobId, jobIds));
  return new Map(rows.map((r) => [r.jobId, r]));
}
