// Replay audits: a job re-run on another worker with the same input, parameters and seed, and the
// marks a mismatch leaves on the job, the model and the worker.
import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { jobs } from '../jobs/jobs-schema.js';

export const AUDIT_STATUSES = ['queued', 'running', 'passed', 'mismatch', 'error'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];

export const audits = pgTable(
  'audits',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id),
    status: text('status', { enum: AUDIT_STATUSES }).notNull().default('queued'),
    /** `sampled` (AUDIT_FRACTION) or `operator` (POST /v1/admin/audits). */
    reason: text('reason', { enum: ['sampled', 'operator'] }).notNull(),
    originalWorkerId: text('original_worker_id'),
    originalOutputSha256: text('original_output_sha256'),
    replayWorkerId: text('replay_worker_id'),
    replayOutputSha256: text('replay_output_sha256'),
    detail: text('detail'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('audits_job_idx').on(t.jobId, t.createdAt)],
);

/** Workers whose output failed a replay audit. */
export const flaggedWorkers = pgTable('flagged_workers', {
  workerId: text('worker_id').primaryKey(),
  mismatches: integer('mismatches').notNull().default(sql`0`),
  lastJobId: uuid('last_job_id'),
  flaggedAt: timestamp('flagged_at', { withTimezone: true }).notNull().defaultNow(),
});
