// The job representation every job route answers with.
import { Type } from 'typebox';
import { MicroCreditsOut, Nullable, Uuid } from '../http/schemas.js';
import { JOB_FAILURE_CODES, publicJobError } from './job-errors.js';
import type { JobRow } from './job-repository.js';
import { JOB_KINDS, JOB_STATUSES, type JobKind, type JobStatus } from './jobs-schema.js';


export const TextScoreSchema = Type.Object(
  { loss: Type.Number(), perplexity: Type.Number(), tokens: Type.Integer() },
  { title: 'TextScore', description: 'Mean token loss (nats), its exp, and the tokens scored' },
);

const JOB_EXAMPLE = {
  id: '6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11',
  object: 'job',
  kind: 'infer',
  status: 'succeeded',
  model: 'tiny-gpt2',
  weights_sha256: '1280b5d7161a7aa77b2b31e8496b0fff32f6765f1183dc3dc373fa34f421d21a',
  url: '/v1/jobs/6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11',
  output: ' jumps over the lazy dog',
  finish_reason: 'length',
  progress: null,
  usage: { input_tokens: 4, output_tokens: 16 },
  cost: 1040,
  max_cost: 1040,
  order: { chain_id: 8996, tx_hash: '0x5f3c…9a1e' },
  receipt: { id: '0b8e3f2a-7c55-4f0e-8d6b-5a1e9c3d2f10', log_index: 41, jws: 'eyJhbGciOiJFZERTQSIs…' },
  audit: null,
  error: null,
  attempts: 1,
  compute_ms: 21,
  cancel_requested: false,
  created_at: '2026-11-27T10:51:42.123Z',
  started_at: '2026-11-27T10:51:42.131Z',
  finished_at: '2026-11-27T10:51:42.160Z',
};

export const JobSchema = Type.Object({
  id: Uuid,
  object: Type.Literal('job'),
  kind: Type.Unsafe<JobKind>({ type: 'string', enum: [...JOB_KINDS], title: 'JobKind' }),
  status: Type.Unsafe<JobStatus>({
    type: 'string',
    enum: [...JOB_STATUSES],
    title: 'JobStatus',
    description: 'queued → running → succeeded, failed or cancelled (the last three are final)',
  }),
  model: Type.String(),
  weights_sha256: Type.String(),
  url: Type.String({ description: 'Where to poll this job' }),
  output: Type.Optional(Type.String({ description: 'infer: the generated text' })),
  finish_reason: Type.Optional(Type.String({ description: 'infer: length, stop, eos or cancelled' })),
  loss: Type.Optional(Type.Number({ description: 'evaluate: mean token loss (nats) over all texts' })),
  perplexity: Type.Optional(Type.Number({ description: 'evaluate: exp(loss)' })),
  tokens: Type.Optional(Type.Integer({ description: 'evaluate: tokens scored' })),
  results: Type.Optional(Type.Array(TextScoreSchema, { description: 'evaluate: one score per text, in order' })),
  training: Type.Optional(
    Type.Object(
      {
        parent: Type.Object({ id: Type.String(), weights_sha256: Type.String() }),
        datasets: Type.Array(Type.Object({ id: Nullable(Type.String()), sha256: Type.String() }), {
          description: 'Each source trained on: a dataset id (null for inline text) and the sha256 of its content',
        }),
        hyperparameters: Type.Record(Type.String(), Type.Unknown()),
        steps_run: Type.Integer(),
        tokens_trained: Type.Integer(),
        losses: Type.Array(Type.Number(), { description: 'Training loss of each step run (nats per token)' }),
        loss_before: Nullable(Type.Number({ description: 'Held-out loss of the parent' })),
        loss_after: Nullable(Type.Number({ description: 'Held-out loss of the new model (null when cancelled)' })),
        new_model: Nullable(
          Type.Object(
            { id: Type.String(), weights_sha256: Type.String() },
            { description: 'The derived model (GET /v1/models/{id}); null when the job was cancelled' },
          ),
        ),
      },
      { description: 'finetune: what was trained on and what came out' },
    ),
  ),
  progress: Nullable(
    Type.Object(
      { step: Type.Integer(), steps: Type.Integer(), loss: Type.Number(), tokens_per_second: Type.Number() },
      { description: 'finetune: the latest step while it runs (also `progress` events on /v1/jobs/{id}/events)' },
    ),
  ),
  usage: Type.Object({
    input_tokens: Type.Integer({ description: 'infer: input tokens; evaluate: tokens scored; finetune: inline text tokens' }),
    output_tokens: Nullable(Type.Integer({ description: 'infer: tokens generated; finetune: tokens trained on' })),
  }),
  cost: Type.Union([MicroCreditsOut, Type.Null()], { description: 'Micro-credits charged; null until final' }),
  max_cost: MicroCreditsOut,
  order: Nullable(
    Type.Object(
      { chain_id: Type.Integer(), tx_hash: Type.String() },
      { description: 'The Ocean order (startOrder transaction) that paid for this job' },
    ),
  ),
  receipt: Nullable(
    Type.Object(
      {
        id: Uuid,
        log_index: Type.Integer(),
        jws: Type.String({ description: 'The signed job-proof receipt (compact JWS); see GET /v1/receipts/{id}' }),
      },
      { description: 'Set once a succeeded job is signed and logged' },
    ),
  ),
  audit: Nullable(
    Type.Object(
      {
        id: Uuid,
        status: Type.String({ description: 'queued, running, passed, mismatch or error' }),
        replay_worker_id: Nullable(Type.String()),
      },
      { description: 'The latest replay audit of this job' },
    ),
  ),
  error: Nullable(
    Type.Object(
      {
        code: Type.Unsafe<string>({ type: 'string', enum: JOB_FAILURE_CODES, description: 'Why the job failed (stable; the README lists each)' }),
        message: Type.String({ description: 'A sentence for people; library and database text never appears here' }),
      },
      { description: 'Set when status is failed' },
    ),
  ),
  attempts: Type.Integer(),
  compute_ms: Nullable(Type.Integer()),
  cancel_requested: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Nullable(Type.String({ format: 'date-time' })),
  finished_at: Nullable(Type.String({ format: 'date-time' })),
}, {
  title: 'Job',
  description: 'An inference, evaluation or fine-tuning job: its state, result, usage, cost, order and receipt',
  examples: [JOB_EXAMPLE],
});

export interface JobReceiptRef {
  receiptId: string;
  logIndex: number;
  jws: string;
}

export interface JobAuditRef {
  id: string;
  status: string;
  replayWorkerId: string | null;
}

export function jobView(job: JobRow, receipt?: JobReceiptRef | null, audit?: JobAuditRef | null) {
  const result = (job.result ?? {}) as Record<string, unknown>;
  return {
    id: job.id,
    object: 'job' as const,
    kind: job.kind,
    status: job.status,
    model: job.modelId,
    weights_sha256: job.weightsSha256,
    url: `/v1/jobs/${job.id}`,
    ...result,
    progress: (job.progress as { step: number; steps: number; loss: number; tokens_per_second: number } | null) ?? null,
    usage: { input_tokens: job.inputTokens, output_tokens: job.outputTokens },
    // Nullable unions are matched by value before serialising, which a bigint fails.
    cost: job.cost === null ? null : Number(job.cost),
    max_cost: job.maxCost,
    order: job.orderTxHash ? { chain_id: job.orderChainId ?? 0, tx_hash: job.orderTxHash } : null,
    receipt: receipt ? { id: receipt.receiptId, log_index: receipt.logIndex, jws: receipt.jws } : null,
    audit: audit ? { id: audit.id, status: audit.status, replay_worker_id: audit.replayWorkerId } : null,
    // Rows written before messages were sanitised are shown through the same filter.
    error: job.error ? publicJobError(job.error.code, job.error.message) : null,
    attempts: job.attempts,
    compute_ms: job.computeMs,
    cancel_requested: job.cancelRequestedAt !== null,
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
  };
}
