// Runs a replay audit on a worker: re-run the job with the same input, parameters and seed on this
// worker's verified weights and compare outputs. A mismatch marks the audit, the model and the
// worker that served the original (and a metric reads the marks).
import type { FastifyBaseLogger } from 'fastify';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import type { EngineRegistry } from '../jobs/engine-registry.js';
import type { JobHandler } from '../jobs/job-catalog.js';
import { createJobRepository, type JobRow } from '../jobs/job-repository.js';
import { runFinetune } from '../finetune/finetune-worker.js';
import type { EvaluateRequest, InferRequest } from '../jobs/job-requests.js';
import { createModelRepository } from '../models/model-repository.js';
import { models } from '../models/models-schema.js';
import { outputSha256 } from '../receipts/canonical-json.js';
import { audits, flaggedWorkers } from './audits-schema.js';

/** Evaluation losses are compared with this relative tolerance: batching may move float32 noise. */
const LOSS_TOLERANCE = 1e-5;

/** Thrown when the job's own worker dequeues its audit: the queue retries it (on another worker). */
export class SameWorkerError extends Error {}

export function createAuditHandler(deps: {
  db: Db;
  engines: EngineRegistry;
  workerId: string;
  log: FastifyBaseLogger;
  /** Fine-tune replays read datasets from here and train with this many threads. */
  dataDir: string;
  threads: number;
}): JobHandler {
  return async (auditId, ctx) => {
    const [audit] = await deps.db.select().from(audits).where(eq(audits.id, auditId));
    if (!audit || !['queued', 'running'].includes(audit.status)) return;
    const finish = (patch: Partial<typeof audits.$inferInsert>) =>
      deps.db
        .update(audits)
        .set({ ...patch, finishedAt: new Date() })
        .where(and(eq(audits.id, auditId), inArray(audits.status, ['queued', 'running'])));
    const job = await createJobRepository(deps.db).find(audit.jobId);
    if (!job || job.status !== 'succeeded' || !job.result) {
      await finish({ status: 'error', detail: 'only succeeded jobs can be audited' });
      return;
    }
    if (job.workerId === deps.workerId) {
      if (ctx.finalAttempt) await finish({ status: 'error', detail: 'no worker other than the original one took the audit' });
      else throw new SameWorkerError(`audit ${auditId} must run on a worker other than ${job.workerId}`);
      return;
    }
    const model = await createModelRepository(deps.db).find(job.modelId);
    if (!model) {
      await finish({ status: 'error', detail: `model ${job.modelId} is gone` });
      return;
    }
    await deps.db.update(audits).set({ status: 'running', replayWorkerId: deps.workerId }).where(eq(audits.id, auditId));
    const original = job.result as Record<string, unknown>;
    let replay: Record<string, unknown>;
    let same: boolean;
    if (job.kind === 'finetune') {
      // Training is deterministic: the same parent, data, hyper-parameters and seed give the same weights.
      const r = await runFinetune({ dataDir: deps.dataDir, threads: deps.threads }, job, model, { signal: new AbortController().signal, onProgress: () => {} });
      replay = r.result;
      const weightsOf = (result: Record<string, unknown>) =>
        (result.training as { new_model?: { weights_sha256?: string } | null } | undefined)?.new_model?.weights_sha256;
      same = r.status === 'succeeded' && weightsOf(replay) !== undefined && weightsOf(replay) === weightsOf(original);
      await recordVerdict(auditId, job, model.id, original, replay, same);
      return;
    }
    // This worker loads the weights registered for the job and checks their hash first.
    const engine = await deps.engines.get({ storagePath: model.storagePath, weightsSha256: job.weightsSha256 });
    if (job.kind === 'infer') {
      const req = job.request as unknown as InferRequest;
      const p = req.parameters;
      const r = await engine.generate({
        input: req.input,
        maxNewTokens: p.max_new_tokens,
        temperature: p.temperature,
        topK: p.top_k,
        topP: p.top_p,
        seed: p.seed,
        stop: p.stop,
      });
      replay = { output: r.output, finish_reason: r.finishReason };
      same = outputSha256(replay) === outputSha256(original);
    } else {
      const r = await engine.evaluate({ texts: (job.request as unknown as EvaluateRequest).texts });
      replay = { loss: r.loss, perplexity: r.perplexity, tokens: r.tokens, results: r.results };
      const loss = Number(original.loss);
      same = r.tokens === original.tokens && Math.abs(r.loss - loss) <= LOSS_TOLERANCE * Math.max(1, Math.abs(loss));
    }
    await recordVerdict(auditId, job, model.id, original, replay, same);
  };

  async function recordVerdict(auditId: string, job: JobRow, modelId: string, original: Record<string, unknown>, replay: Record<string, unknown>, same: boolean) {
    const verdict = {
      status: same ? ('passed' as const) : ('mismatch' as const),
      originalWorkerId: job.workerId,
      originalOutputSha256: outputSha256(original),
      replayOutputSha256: outputSha256(replay),
      detail: same ? 'the replay reproduced the output' : 'the replay on registered weights produced a different output',
    };
    await deps.db.transaction(async (tx) => {
      await tx
        .update(audits)
        .set({ ...verdict, finishedAt: new Date() })
        .where(and(eq(audits.id, auditId), eq(audits.status, 'running')));
      if (same) return;
      await tx.update(models).set({ auditMismatches: sql`${models.auditMismatches} + 1` }).where(eq(models.id, modelId));
      await tx
        .insert(flaggedWorkers)
        .values({ workerId: job.workerId ?? 'unknown', mismatches: 1, lastJobId: job.id })
        .onConflictDoUpdate({
          target: flaggedWorkers.workerId,
          set: { mismatches: sql`${flaggedWorkers.mismatches} + 1`, lastJobId: job.id, flaggedAt: new Date() },
        });
    });
    if (!same) deps.log.error({ jobId: job.id, worker: job.workerId }, 'replay audit mismatch');
  }
}
