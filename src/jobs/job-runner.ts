// Runs one job on a worker: claim it, run the transformer, then settle and record the result in
// one transaction, with what must follow it: the receipt outbox row (the gateway signs the receipt
// from there) and a sampled audit. A retried or re-delivered job settles its hold once.
import { publicJobError } from './job-errors.js';
import { isTransientInfraError } from '../db/infra-errors.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Ledger } from '../credits/credit-ledger.js';
import type { Db, Tx } from '../db/database.js';
import { createModelRepository, type ModelRow, type NewModel } from '../models/model-repository.js';
import { FinetuneInputError, runFinetune } from '../finetune/finetune-worker.js';
import { datasetPayments } from './job-service.js';
import type { FinetuneRequest } from './job-requests.js';
import { createRequire } from 'node:module';
import { recordSpan, timed } from '../observability/job-spans.js';
import { CancelledError, RuntimeError } from '../runtime/index.js';
import type { EngineRegistry } from './engine-registry.js';
import type { JobHandler } from './job-catalog.js';
import type { JobEvents } from './job-events.js';
import { jobCost } from './job-pricing.js';
import type { FixedPayment } from '../credits/revenue-split.js';
import { captureJobHold } from './job-settlement.js';
import { createJobRepository, type JobRow } from './job-repository.js';
import type { EvaluateRequest, InferRequest } from './job-requests.js';
import type { JobKind, JobStatus } from './jobs-schema.js';
import type { JobOrderChecker } from '../ocean/job-order-check.js';
import type { WorkerReceipts } from '../receipts/worker-receipts.js';
import { addToReceiptOutbox, type OutboxEntry } from '../receipts/receipt-outbox.js';
import { enqueueAudit, insertAudit, sampledForAudit, type AuditRow } from '../audits/audit-service.js';
import type { JobQueue } from './job-queue.js';

export interface JobRunnerDeps {
  db: Db;
  ledger: Ledger;
  events: JobEvents;
  engines: EngineRegistry;
  workerId: string;
  log: FastifyBaseLogger;
  faultStartDelayMs?: number;
  /** Validates each job's Ocean order before running it; null runs jobs without orders (CHAIN=off). */
  orders: JobOrderChecker | null;
  /** Attests every succeeded job into the receipt outbox; null with RECEIPTS=off (benchmarks only). */
  receipts: WorkerReceipts | null;
  /** Sampled replay audits of succeeded jobs. */
  audits?: { fraction: number; queue: JobQueue };
  /** Where datasets and the weights store live (fine-tuning reads datasets and stores new weights). */
  dataDir?: string;
  /** onnxruntime intra-op threads of a training run. */
  trainingThreads?: number;
  /** The marketplace fee in basis points (config MARKETPLACE_FEE_BPS); default 2500. */
  feeBps?: bigint | number;
}

/** A failure worth retrying (RPC down, order not attached yet); on the last attempt the job fails with its code. */
class RetryableJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A failure a retry cannot fix: the job fails at once with this code. */
class PermanentJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Outcome {
  status: JobStatus;
  result: Record<string, unknown>;
  outputTokens: number;
  billedTokens: number;
  computeMs: number;
}

/** A delivery whose job is not in this database: never completed here, left for the right worker. */
export class UnknownJobError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} is not in this worker's database: is DATABASE_URL the gateway's? Left in the queue for the right worker`);
    this.name = 'UnknownJobError';
  }
}

/** The trainer runs on onnxruntime-node in a thread; its package version names the runtime in receipts. */
const ONNXRUNTIME_VERSION: string = createRequire(import.meta.url)('onnxruntime-node/package.json').version;

/** Runtime errors that a retry cannot fix (bad weights, bad parameters): fail at once. */
const isPermanent = (err: unknown) =>
  err instanceof PermanentJobError || (err instanceof RuntimeError && err.name !== 'EngineUnavailableError');

/** Holds work (streamed tokens) back until the job's order is checked, then runs it in order. */
interface OrderGate {
  run(work: () => void): void;
  open(): void;
}

function createOrderGate(): OrderGate {
  let held: Array<() => void> | null = [];
  return {
    run(work) {
      if (held) held.push(work);
      else work();
    },
    open() {
      const pending = held ?? [];
      held = null;
      for (const work of pending) work();
    },
  };
}

export function createJobRunner(deps: JobRunnerDeps): Record<JobKind, JobHandler> {
  const repo = createJobRepository(deps.db);

  interface Settlement {
    status: JobStatus;
    cost: bigint;
    result?: Record<string, unknown>;
    error?: { code: string; message: string };
    outputTokens?: number;
    computeMs?: number;
    /** The model owner's account, paid its share of a non-zero cost (the model row run() already read). */
    owner?: string | null;
    /**
     * Paid in full on top of `cost` (a fine-tune's dataset owners), outside the revenue split: the
     * hold captures cost + Σ fixed and the job records that total, so it must fit in the hold.
     */
    fixed?: FixedPayment[];
    /** A succeeded fine-tune's derived model: registered in the settlement's transaction, or the job fails. */
    newModel?: NewModel;
    /** A succeeded job's attestation, for the receipt outbox. */
    receipt?: OutboxEntry;
    /** Sampled for a replay audit: its row is written with the settlement. */
    audit?: boolean;
  }

  /**
   * Records the outcome, settles the hold, and writes what must follow a success (the receipt outbox
   * row, a sampled audit) in one transaction; a second settle changes nothing.
   */
  async function settle(job: JobRow, settlement: Settlement): Promise<{ row: JobRow; audit?: AuditRow } | undefined> {
    return deps.db.transaction(async (tx: Tx) => {
      const { owner, fixed, receipt, audit, newModel, ...s } = await registerNewModel(tx, settlement);
      const captured = (fixed ?? []).reduce((sum, f) => sum + f.amount, s.cost);
      const finished = await createJobRepository(tx).finish(job.id, ['running'], { ...s, cost: captured });
      if (!finished) return undefined; // another attempt or a cancel finished it first
      const succeeded = finished.status === 'succeeded';
      if (succeeded && receipt) await addToReceiptOutbox(tx, receipt);
      const auditRow = succeeded && audit ? await insertAudit(tx, job.id, 'sampled') : undefined;
      if (!job.holdId) return { row: finished, audit: auditRow };
      await captureJobHold(tx, deps, { holdId: job.holdId, modelId: job.modelId, cost: s.cost, captured, owner: owner ?? null, fixed });
      return { row: finished, audit: auditRow };
    });
  }

  /**
   * A fine-tune's new model row goes in first; an id taken meanwhile (another model registered it)
   * turns the settlement into a failure that charges nothing and writes no receipt.
   */
  async function registerNewModel(tx: Tx, s: Settlement): Promise<Settlement> {
    if (!s.newModel || s.status !== 'succeeded') return s;
    const inserted = await createModelRepository(tx).insertNew(s.newModel);
    if (inserted) return s;
    return { status: 'failed', cost: 0n, error: publicJobError('model_name_taken', ''), outputTokens: s.outputTokens, computeMs: s.computeMs };
  }

  async function run(kind: JobKind, jobId: string, finalAttempt: boolean) {
    const runStarted = performance.now();
    const abort = new AbortController();
    // The cancel subscription is made while the job is claimed; once it is live, a re-read (with the
    // model row) catches a cancel sent before it. Two round trips in sequence, not four.
    const [subscribed, job] = await Promise.all([
      deps.events
        .subscribe(jobId, (e) => {
          if (e.type === 'cancel') abort.abort();
        })
        .then(
          (unsubscribe) => ({ unsubscribe }),
          (error: unknown) => ({ error }),
        ),
      timed(jobId, 'worker.claim', () => repo.markRunning(jobId, deps.workerId)),
    ]);
    if ('error' in subscribed) throw subscribed.error;
    const unsubscribe = subscribed.unsubscribe;
    if (!job) {
      await unsubscribe().catch(() => {});
      if (await repo.find(jobId)) return; // already final: a duplicate delivery
      // Completing it would lose it: the gateway's database holds it queued with its credit held.
      deps.log.error({ jobId, kind, workerId: deps.workerId }, 'JOB NOT FOUND in this database; not completing it');
      throw new UnknownJobError(jobId);
    }
    const log = deps.log.child({ jobId, kind, attempt: job.attempts });
    // Not awaited: events of a job go out in order on one connection, and nobody waits on this one.
    void deps.events.publish(jobId, { type: 'status', status: 'running' }).catch(() => {});
    if (deps.faultStartDelayMs) await delay(deps.faultStartDelayMs);

    const prepStarted = performance.now();
    const [model, current] = await Promise.all([createModelRepository(deps.db).find(job.modelId), repo.find(jobId)]);
    let finalStatus: JobStatus | undefined;
    const settleOnce = async (s: Settlement) => {
      const settled = await settle(job, s);
      finalStatus = settled?.row.status;
      return settled;
    };
    try {
      if (current?.cancelRequestedAt) throw new CancelledError();
      recordSpan(jobId, 'worker.prepare', performance.now() - prepStarted);
      if (!model) throw new Error(`model ${job.modelId} is gone from the registry`);
      // Never answer without a valid order, checked on chain the way an Ocean provider does. The check
      // runs beside the compute (its RPC round trip hidden behind the transformer's work): tokens are
      // held back until it passes, and a refused order stops the compute and discards what it made.
      const gate = createOrderGate();
      const refused = new AbortController();
      const checking = checkOrder(job, model).then(
        () => gate.open(),
        (err: unknown) => {
          refused.abort();
          throw err;
        },
      );
      checking.catch(() => {}); // awaited below; a refusal must not go unhandled meanwhile
      if (kind === 'finetune') {
        await checking;
        await runFinetuneJob(job, model, abort.signal, settleOnce, log);
        return;
      }
      const signal = AbortSignal.any([abort.signal, refused.signal]);
      let outcome: Outcome;
      let engine: Awaited<ReturnType<EngineRegistry['get']>>;
      try {
        // The job pinned the weights at submission; serving other weights under the same id is refused.
        engine = await deps.engines.get({ storagePath: model.storagePath, weightsSha256: job.weightsSha256 });
        outcome = await timed(jobId, 'worker.compute', () => (kind === 'infer' ? runInfer(job, engine, signal, gate) : runEvaluate(job, engine, signal)));
      } catch (err) {
        await checking; // a refused order is the job's error, whatever the compute threw
        throw err;
      }
      await checking;
      const cost = jobCost(job, outcome.billedTokens);
      const capped = cost > job.maxCost ? job.maxCost : cost;
      const succeeded = outcome.status === 'succeeded';
      // Signed before the transaction (no database work inside a signature); stored with the settlement.
      const receipt = succeeded && deps.receipts ? await timed(jobId, 'worker.attest', () => deps.receipts!.attest(job, outcome.result, engine.info.runtime)) : undefined;
      const settleStarted = performance.now();
      const settled = await settleOnce({
        status: outcome.status,
        result: outcome.result,
        outputTokens: outcome.outputTokens,
        computeMs: outcome.computeMs,
        cost: capped,
        owner: model.ownerAccountId,
        receipt,
        audit: succeeded && deps.audits !== undefined && sampledForAudit(jobId, deps.audits.fraction),
      });
      recordSpan(jobId, 'worker.settle', performance.now() - settleStarted);
      // The audit row is committed: an enqueue lost here is repaired by the watchdog.
      if (settled?.audit && deps.audits) await enqueueAudit(deps.audits.queue, settled.audit.id, log);
      log.info({ status: outcome.status, cost: capped.toString(), computeMs: outcome.computeMs }, 'job finished');
    } catch (err) {
      if (err instanceof CancelledError) {
        await settleOnce({ status: 'cancelled', cost: 0n });
        return;
      }
      if (!isPermanent(err) && (!finalAttempt || isTransientInfraError(err))) {
        log.warn({ err }, 'job attempt failed; it will be retried');
        throw err;
      }
      const known = err instanceof RuntimeError || err instanceof PermanentJobError || err instanceof RetryableJobError;
      const code = known ? err.code : 'worker_error';
      log.error({ err }, 'job failed');
      await settleOnce({ status: 'failed', error: publicJobError(code, known ? err.message : ''), cost: 0n });
    } finally {
      // Waiters wake on `done`; when another attempt or a cancel settled the job, read what it became.
      // A fault here must not replace the outcome above (Postgres or Redis may be what just failed).
      try {
        const status = finalStatus ?? (await repo.find(jobId))?.status;
        if (status && status !== 'running') await timed(jobId, 'worker.publish_done', () => deps.events.publish(jobId, { type: 'done', status }));
      } catch (err) {
        log.warn({ err }, 'publishing the outcome failed');
      }
      recordSpan(jobId, 'worker.total', performance.now() - runStarted);
      await unsubscribe().catch(() => {});
    }
  }

  /**
   * Trains, then settles: the steps run are charged (per-job price + per-1k-token price × tokens
   * trained) plus each dataset's price paid to its owner; a cancel before the first step costs
   * nothing. A succeeded job registers the derived model in the settlement's transaction.
   */
  async function runFinetuneJob(
    job: JobRow,
    parent: ModelRow,
    signal: AbortSignal,
    settleOnce: (s: Settlement) => Promise<{ row: JobRow; audit?: AuditRow } | undefined>,
    log: FastifyBaseLogger,
  ) {
    const request = job.request as unknown as FinetuneRequest;
    let lastWrite = 0;
    let outcome: Awaited<ReturnType<typeof runFinetune>>;
    try {
      outcome = await runFinetune({ dataDir: deps.dataDir ?? '.posthuman', threads: deps.trainingThreads ?? 1 }, job, parent, {
        signal,
        onProgress: (progress) => {
          void deps.events.publish(job.id, { type: 'progress', ...progress }).catch(() => {});
          // The row is written at most once a second (and at the last step): polling sees it too.
          const now = Date.now();
          if (now - lastWrite < 1000 && progress.step < progress.steps) return;
          lastWrite = now;
          void createJobRepository(deps.db)
            .setProgress(job.id, progress as unknown as Record<string, unknown>)
            .catch((err) => log.warn({ err }, 'recording progress failed'));
        },
      });
    } catch (err) {
      if (err instanceof FinetuneInputError) throw new PermanentJobError(err.code, err.message);
      throw err;
    }
    const ran = outcome.stepsRun > 0;
    const cost = ran ? jobCost(job, outcome.trainedTokens) : 0n;
    const fixed = ran ? datasetPayments(request) : [];
    const fixedTotal = fixed.reduce((sum, f) => sum + f.amount, 0n);
    const succeeded = outcome.status === 'succeeded';
    const runtime = { name: 'onnxruntime-node', version: ONNXRUNTIME_VERSION };
    const receipt = succeeded && deps.receipts ? await deps.receipts.attest(job, outcome.result, runtime) : undefined;
    const settled = await settleOnce({
      status: outcome.status,
      result: outcome.result,
      outputTokens: outcome.trainedTokens,
      computeMs: outcome.computeMs,
      // The hold covers the compute at most steps and every dataset's price: cost + Σ fixed ≤ max_cost.
      cost: cost > job.maxCost - fixedTotal ? job.maxCost - fixedTotal : cost,
      fixed,
      owner: parent.ownerAccountId,
      newModel: outcome.newModel,
      receipt,
      // A replay audit re-trains elsewhere and compares the new weights' sha256.
      audit: succeeded && deps.audits !== undefined && sampledForAudit(job.id, deps.audits.fraction),
    });
    if (settled?.audit && deps.audits) await enqueueAudit(deps.audits.queue, settled.audit.id, log);
    log.info({ status: outcome.status, steps: outcome.stepsRun, newModel: outcome.newModel?.id }, 'fine-tune finished');
  }

  /** Resolves once the job's order is valid (at once with CHAIN=off); throws the job's error otherwise. */
  async function checkOrder(job: JobRow, model: ModelRow): Promise<void> {
    if (!deps.orders) return;
    const orders = deps.orders;
    const check = await timed(job.id, 'worker.order_check', () =>
      orders.check({ jobId: job.id, orderTxHash: job.orderTxHash, orderChainId: job.orderChainId, orderBlockHash: job.orderBlockHash, weightsSha256: job.weightsSha256, model }),
    );
    if (check.ok) return;
    if (check.permanent) throw new PermanentJobError(check.code, check.message);
    throw new RetryableJobError(check.code, check.message);
  }

  async function runInfer(job: JobRow, engine: Awaited<ReturnType<EngineRegistry['get']>>, signal: AbortSignal, gate: OrderGate): Promise<Outcome> {
    const req = job.request as unknown as InferRequest;
    let index = 0;
    // Tokens go out only to a stream: one submitted as such, or a follower of /v1/jobs/{id}/events
    // (asked once now and every 250 ms while nobody streams). A job nobody streams sends none.
    let streamed = req.stream === true || (await deps.events.tokensWanted(job.id).catch(() => true));
    let askedAt = performance.now();
    const askAgain = () => {
      if (streamed || performance.now() - askedAt < 250) return;
      askedAt = performance.now();
      deps.events.tokensWanted(job.id).then(
        (wanted) => {
          streamed ||= wanted;
        },
        () => {},
      );
    };
    const result = await engine.generate(
      {
        input: req.input,
        maxNewTokens: req.parameters.max_new_tokens,
        temperature: req.parameters.temperature,
        topK: req.parameters.top_k,
        topP: req.parameters.top_p,
        seed: req.parameters.seed,
        stop: req.parameters.stop,
      },
      {
        signal,
        onToken: (text) => {
          const at = index++;
          askAgain();
          if (streamed) gate.run(() => void deps.events.publish(job.id, { type: 'token', text, index: at, attempt: job.attempts }).catch(() => {}));
        },
      },
    );
    return {
      status: result.finishReason === 'cancelled' ? 'cancelled' : 'succeeded',
      result: { output: result.output, finish_reason: result.finishReason },
      outputTokens: result.outputTokens,
      billedTokens: result.inputTokens + result.outputTokens,
      computeMs: Math.round(result.computeMs),
    };
  }

  async function runEvaluate(job: JobRow, engine: Awaited<ReturnType<EngineRegistry['get']>>, signal: AbortSignal): Promise<Outcome> {
    const req = job.request as unknown as EvaluateRequest;
    const result = await engine.evaluate({ texts: req.texts }, { signal });
    return {
      status: 'succeeded',
      result: { loss: result.loss, perplexity: result.perplexity, tokens: result.tokens, results: result.results },
      outputTokens: 0,
      billedTokens: job.inputTokens,
      computeMs: Math.round(result.computeMs),
    };
  }

  return {
    infer: (jobId, ctx) => run('infer', jobId, ctx.finalAttempt),
    evaluate: (jobId, ctx) => run('evaluate', jobId, ctx.finalAttempt),
    finetune: (jobId, ctx) => run('finetune', jobId, ctx.finalAttempt),
  };
}

