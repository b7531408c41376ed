// Creates replay audits (sampled or operator-requested) and reads them; a job's latest audit shows in its answer.
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { DbOrTx } from '../db/database.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { audits } from './audits-schema.js';

export type AuditRow = typeof audits.$inferSelect;

/** Deterministic sampling: the same job is always in or out of a given fraction (reproducible). */
export function sampledForAudit(jobId: string, fraction: number): boolean {
  if (fraction <= 0) return false;
  if (fraction >= 1) return true;
  const bucket = createHash('sha256').update(jobId).digest().readUInt32BE(0) / 2 ** 32;
  return bucket < fraction;
}

/** The audit's row, written in the caller's transaction (a sampled audit: the one settling the job). */
export async function insertAudit(db: DbOrTx, jobId: string, reason: 'sampled' | 'operator'): Promise<AuditRow> {
  const [row] = await db.insert(audits).values({ jobId, reason }).returning();
  return row;
}

/**
 * Enqueues a committed audit. A failure (Redis away, a crash just before) is logged, not thrown: the
 * watchdog enqueues every audit still `queued` without a queue entry, so none stays queued forever.
 */
export async function enqueueAudit(queue: JobQueue, auditId: string, log?: Pick<FastifyBaseLogger, 'warn'>): Promise<void> {
  await queue.enqueue('audit', auditId).catch((err) => log?.warn({ err, auditId }, 'enqueueing an audit failed; left to the watchdog'));
}

export async function requestAudit(
  db: DbOrTx,
  queue: JobQueue,
  jobId: string,
  reason: 'sampled' | 'operator',
  log?: Pick<FastifyBaseLogger, 'warn'>,
): Promise<AuditRow> {
  const row = await insertAudit(db, jobId, reason);
  await enqueueAudit(queue, row.id, log);
  return row;
}

/** Audits committed as queued more than `olderThanMs` ago: the watchdog checks each has a queue entry. */
export async function listQueuedAudits(db: DbOrTx, olderThanMs: number, limit = 500): Promise<Array<{ id: string }>> {
  return db
    .select({ id: audits.id })
    .from(audits)
    .where(and(eq(audits.status, 'queued'), lt(audits.createdAt, sql`now() - ${olderThanMs} * interval '1 millisecond'`)))
    .orderBy(asc(audits.createdAt))
    .limit(limit);
}

export async function latestAudits(db: DbOrTx, jobIds: string[]): Promise<Map<string, AuditRow>> {
  if (jobIds.length === 0) return new Map();
  const rows = await db.select().from(audits).where(inArray(audits.jobId, jobIds)).orderBy(desc(audits.createdAt));
  const out = new Map<string, AuditRow>();
  for (const r of rows) if (!out.has(r.jobId)) out.set(r.jobId, r);
  return out;
}

export async function findAudit(db: DbOrTx, id: string): Promise<AuditRow | undefined> {
  const [row] = await db.select().from(audits).where(eq(audits.id, id));
  return row;
}

export function auditView(a: AuditRow) {
  return {
    id: a.id,
    job_id: a.jobId,
    status: a.status,
    reason: a.reason,
    original_worker_id: a.originalWorkerId,
    replay_worker_id: a.replayWorkerId,
    original_output_sha256: a.originalOutputSha256,
    replay_output_sha256: a.replayOutputSha256,
    detail: a.detail,
    created_at: a.createdAt.toISOString(),
    finished_at: a.finishedAt?.toISOString() ?? null,
  };
}
