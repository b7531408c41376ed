// Creates replay audits (sampled or operator-requested) and reads them; a job's latest audit shows in its answer.
import { createHash } from 'node:crypto';
import { desc, eq, inArray } from 'drizzle-orm';
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

export async function requestAudit(db: DbOrTx, queue: JobQueue, jobId: string, reason: 'sampled' | 'operator'): Promise<AuditRow> {
  const [row] = await db.insert(audits).values({ jobId, reason }).returning();
  await queue.enqueue('audit', row.id);
  return row;
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
