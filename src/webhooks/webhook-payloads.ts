// The body of a webhook message, per Standard Webhooks: { type, timestamp, data }. Job events carry
// the job as GET /v1/jobs/{id} shows it (with its receipt once succeeded); progress events carry
// the step as it was when recorded.
import type { Db } from '../db/database.js';
import { createJobRepository } from '../jobs/job-repository.js';
import { jobView } from '../jobs/job-views.js';
import { receiptsForJobs } from '../receipts/receipt-lookup.js';

export interface EventRow {
  id: string;
  type: string;
  jobId: string;
  progress: Record<string, unknown> | null;
  createdAt: Date;
}

const withBigints = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));

export const messageId = (eventId: string) => `msg_${eventId}`;

export async function eventBody(db: Db, event: EventRow, receipts: { ensureReceipt(jobId: string): Promise<void> } | null): Promise<string> {
  const job = await createJobRepository(db).find(event.jobId);
  if (!job) throw new Error(`job ${event.jobId} of webhook event ${event.id} is gone`);
  let data: Record<string, unknown>;
  if (event.type === 'finetune.progress') {
    data = { id: job.id, object: 'job', kind: job.kind, status: 'running', model: job.modelId, url: `/v1/jobs/${job.id}`, progress: event.progress };
  } else {
    if (job.status === 'succeeded') await receipts?.ensureReceipt(job.id);
    const receipt = (await receiptsForJobs(db, [job.id])).get(job.id);
    data = jobView(job, receipt);
  }
  return withBigints({ type: event.type, timestamp: event.createdAt.toISOString(), data });
}
