// The one job catalog shared by producers and consumers: queue name, payload schema, retry policy.
import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { JobKind } from './jobs-schema.js';

/** What a queue entry carries: the id of a job (or, on the audit queue, of an audit). Nothing else. */
export const JobPayload = Type.Object({ jobId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

/** Queues: one per job kind, plus replay audits. */
export type QueueKind = JobKind | 'audit';
export type JobPayload = Static<typeof JobPayload>;

export interface JobKindSpec {
  queue: string;
  /** Attempts BullMQ makes before the job is failed for good (a stalled worker counts separately). */
  attempts: number;
  backoffMs: number;
}

export const JOB_CATALOG: Record<QueueKind, JobKindSpec> = {
  // 5 attempts with exponential backoff from 1 s: a chain or RPC outage of ~15 s is ridden out.
  infer: { queue: 'infer', attempts: 5, backoffMs: 1000 },
  evaluate: { queue: 'evaluate', attempts: 5, backoffMs: 1000 },
  // Training is long and deterministic: a retry re-runs it from the parent, so only infra faults retry.
  finetune: { queue: 'finetune', attempts: 3, backoffMs: 2000 },
  // An audit must run on another worker than the job did: the one that ran it retries it away.
  audit: { queue: 'audit', attempts: 8, backoffMs: 500 },
};

const checker = Compile(JobPayload);

/** Payloads are validated on enqueue and again on dequeue: the queue carries only ids. */
export function parseJobPayload(data: unknown): JobPayload {
  if (!checker.Check(data)) throw new Error(`invalid job payload: ${JSON.stringify(data)}`);
  return data;
}

export type JobHandler = (jobId: string, context: { attempt: number; finalAttempt: boolean }) => Promise<void>;

/** Start-up fails when a kind of the catalog has no handler. */
export function assertHandlers(handlers: Partial<Record<QueueKind, JobHandler>>): Record<QueueKind, JobHandler> {
  const missing = (Object.keys(JOB_CATALOG) as QueueKind[]).filter((k) => typeof handlers[k] !== 'function');
  if (missing.length) throw new Error(`no handler for job kind(s): ${missing.join(', ')}`);
  return handlers as Record<QueueKind, JobHandler>;
}
