// Gateway side of a job: validate against the model, hold the maximum cost and create the job in one
// transaction, enqueue it, wait for it, cancel it.
import { publicJobError } from './job-errors.js';
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Ledger } from '../credits/credit-ledger.js';
import type { Db } from '../db/database.js';
import { AppError, notFound } from '../errors/app-error.js';
import { withIdempotency } from '../http/idempotency.js';
import { createModelRepository, type ModelRow } from '../models/model-repository.js';
import type { KeyPrincipal } from '../accounts/principal.js';
import type { JobEvents } from './job-events.js';
import { jobCost } from './job-pricing.js';
import type { JobQueue } from './job-queue.js';
import { createJobRepository, FINAL_STATUSES, type JobRow } from './job-repository.js';
import type { EvaluateRequest, FinetuneBody, FinetuneDataset, FinetuneRequest, InferRequest } from './job-requests.js';
import { MAX_TEXT_CHARS } from './job-requests.js';
import { quoteDatasets } from '../datasets/dataset-service.js';
import { createHash } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { jobs } from './jobs-schema.js';
import { recordSpan, timed } from '../observability/job-spans.js';
import type { JobKind } from './jobs-schema.js';
import type { GatewayOcean } from '../ocean/gateway-ocean.js';
import { OceanError, isOceanError } from '../ocean/ocean-error.js';
import { JOB_CATALOG } from './job-catalog.js';
import { endUnfinishedJob } from './job-reconciler.js';

export interface JobServiceDeps {
  db: Db;
  ledger: Ledger;
  queue: JobQueue;
  events: JobEvents;
  countTokens: CountTokens;
  maxQueueDepth: number;
  log: FastifyBaseLogger;
  /** Orders every job on chain before it is enqueued; null when the chain is off. */
  ocean: GatewayOcean | null;
  /** Live separate workers per queue name; null when the worker runs in the gateway process. */
  liveWorkers?: (() => Promise<Record<string, number>>) | null;
  /** Whether a separate worker still heartbeats; absent when the worker runs in the gateway process. */
  isWorkerAlive?: ((workerId: string) => Promise<boolean>) | null;
  /** Issues a succeeded job's receipt from the outbox now, so an answer that waited carries it. */
  receipts?: { drainJob(jobId: string, known?: { job: JobRow }): Promise<unknown> } | null;
  /** Runs the jobs of models served by an Ocean compute node (in the gateway); null: such models are refused. */
  oceanNodeJobs?: { enqueue(jobId: string): Promise<void> } | null;
}

/** Seconds a client is asked to wait when no worker is alive or a model is being published again. */
const RETRY_AFTER_SECONDS = '5';

/** The token count of text if at most `limit`, else some number above it (work bounded by the limit). */
export type CountTokens = (text: string, limit: number) => number;

export type Submission =
  | { kind: 'infer'; model: string; modelSha256?: string; request: InferRequest }
  | { kind: 'evaluate'; model: string; modelSha256?: string; request: EvaluateRequest }
  | { kind: 'finetune'; model: string; modelSha256?: string; request: FinetuneRequest };

/** What a route hands over: a fine-tune's body is resolved against its model and datasets here. */
export type SubmissionInput =
  | Exclude<Submission, { kind: 'finetune' }>
  | { kind: 'finetune'; model: string; modelSha256?: string; body: FinetuneBody };

/** Tokens a fine-tune trains on at most: every step reads batch_size sequences of the context length. */
export function finetuneTokens(steps: number, batchSize: number, contextLength: number): number {
  return steps * batchSize * contextLength;
}

/**
 * The stored request of a fine-tune: hyper-parameters with their defaults, each dataset resolved to
 * its sha256, owner and price (fixed now, like the model's prices), inline texts hashed.
 */
export async function finetuneRequestFor(db: Db, accountId: string, body: FinetuneBody, parent: { pricePerJob: bigint; pricePer1kTokens: bigint }): Promise<FinetuneRequest> {
  const h = body.hyperparameters;
  // Errors name the dataset's position in the body, not among the ids.
  const positions = body.datasets.flatMap((d, i) => ('id' in d ? [i] : []));
  const ids = body.datasets.flatMap((d) => ('id' in d ? [d.id] : []));
  const quoted = ids.length > 0 ? await quoteDatasets(db, accountId, ids, (k) => `body.datasets[${positions[k]}]`) : [];
  const byId = new Map(quoted.map((q) => [q.id, q]));
  let inlineChars = 0;
  const datasets: FinetuneDataset[] = body.datasets.map((d, i) => {
    if ('text' in d) {
      inlineChars += d.text.length;
      return { id: null, sha256: createHash('sha256').update(d.text, 'utf8').digest('hex'), format: 'text', owner_account_id: null, price: '0', text: d.text };
    }
    const q = byId.get(d.id);
    if (!q) throw new AppError('not_found', `dataset ${d.id} not found`, { field: `body.datasets[${i}]` });
    return { id: q.id, sha256: q.sha256, format: q.format, owner_account_id: q.ownerAccountId, price: q.pricePerJob.toString() };
  });
  if (inlineChars > MAX_TEXT_CHARS) {
    throw new AppError('validation_failed', `inline texts hold ${inlineChars} characters in all; at most ${MAX_TEXT_CHARS} are taken`, { field: 'body.datasets' });
  }
  return {
    name: body.name,
    hyperparameters: {
      steps: h?.steps ?? 20,
      batch_size: h?.batch_size ?? 4,
      learning_rate: h?.learning_rate ?? 0.001,
      seed: h?.seed ?? 0,
      eval_fraction: h?.eval_fraction ?? 0.1,
    },
    datasets,
    new_model: {
      price_per_job: String(body.pricing?.per_job ?? parent.pricePerJob),
      price_per_1k_tokens: String(body.pricing?.per_1k_tokens ?? parent.pricePer1kTokens),
      royalty_bps: body.royalty_bps ?? 0,
    },
  };
}

/** What the datasets of a fine-tune pay their owners (inline texts are free), in micro-credits. */
export function datasetPayments(request: FinetuneRequest): Array<{ accountId: string; amount: bigint }> {
  return request.datasets.flatMap((d) => (d.owner_account_id && BigInt(d.price) > 0n ? [{ accountId: d.owner_account_id, amount: BigInt(d.price) }] : []));
}

function resolveModel(model: ModelRow | undefined, s: SubmissionInput, ocean: GatewayOcean | null, oceanNode: boolean): ModelRow {
  if (!model) throw new AppError('not_found', `model "${s.model}" not found`, { field: 'body.model' });
  if (model.computeBackend === 'ocean-node' && (!oceanNode || s.kind === 'finetune' || model.ownerAccountId !== null)) {
    const why = !oceanNode
      ? 'this gateway has no chain with an Escrow contract to pay the node'
      : model.ownerAccountId !== null
        ? "an owned model's weights never leave the marketplace's workers"
        : 'fine-tuning is not offered on Ocean compute nodes';
    throw new AppError('service_unavailable', `model "${model.id}" is served by an Ocean compute node: ${why}`, { headers: { 'Retry-After': '30' } });
  }
  if (ocean && (model.chainId !== ocean.chainId || !model.datatokenAddress)) {
    throw new AppError('service_unavailable', `model "${model.id}" is not published on chain ${ocean.chainId} yet`, {
      headers: { 'Retry-After': '30' },
    });
  }
  // Any model may be a parent; the worker refuses weights it cannot train (model_not_trainable).
  if (s.kind !== 'finetune' && !model.taskKinds.includes(s.kind)) {
    throw new AppError('invalid_request', `model "${model.id}" does not serve ${s.kind}`, { field: 'body.model' });
  }
  if (s.modelSha256 && s.modelSha256 !== model.weightsSha256) {
    throw new AppError('conflict', `model "${model.id}" is served with weights ${model.weightsSha256}, not the pinned ${s.modelSha256}`, {
      field: 'body.model_sha256',
    });
  }
  return model;
}

/** Counts tokens and checks them against the context; returns [input tokens, tokens billed at most]. */
function measure(model: ModelRow, s: Submission, countTokens: CountTokens): [number, number] {
  if (s.kind === 'infer') {
    // Counting stops once the input cannot fit, so a huge input costs no more than a fitting one.
    const input = countTokens(s.request.input, model.contextLength);
    const room = model.contextLength - input;
    if (room < 1) {
      const size = input > model.contextLength ? `more than ${model.contextLength}` : String(input);
      throw new AppError('validation_failed', `input is ${size} tokens; model "${model.id}" has a context of ${model.contextLength} tokens`, {
        field: 'body.input',
      });
    }
    if (s.request.parameters.max_new_tokens > room) {
      throw new AppError(
        'validation_failed',
        `max_new_tokens is ${s.request.parameters.max_new_tokens} but only ${room} tokens fit after the ${input}-token input (context ${model.contextLength})`,
        { field: 'body.parameters.max_new_tokens' },
      );
    }
    return [input, input + s.request.parameters.max_new_tokens];
  }
  if (s.kind === 'finetune') {
    let tokens = 0;
    for (const [i, d] of s.request.datasets.entries()) {
      if (d.text === undefined) continue;
      const count = countTokens(d.text, Number.MAX_SAFE_INTEGER);
      if (count < 2) throw new AppError('validation_failed', 'an inline training text needs at least 2 tokens', { field: `body.datasets[${i}].text` });
      tokens += count;
    }
    const h = s.request.hyperparameters;
    return [tokens, finetuneTokens(h.steps, h.batch_size, model.contextLength)];
  }
  // Texts longer than the context are scored in sliding windows, so any length is accepted; the
  // request schema bounds the characters, and so the work of counting.
  let tokens = 0;
  for (const text of s.request.texts) {
    const count = countTokens(text, Number.MAX_SAFE_INTEGER);
    if (count < 2) {
      throw new AppError('validation_failed', 'each text needs at least 2 tokens to be scored', { field: 'body.texts' });
    }
    tokens += count;
  }
  return [tokens, tokens];
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Orders tried for one job before it fails: each refused one was already carried by another job. */
const MAX_ORDER_ATTACHES = 64;

export function createJobService(deps: JobServiceDeps) {
  const jobsRepo = createJobRepository(deps.db);
  const modelsRepo = createModelRepository(deps.db);

  /** A fine-tune's new model id must be free: no model has it and no unfinished fine-tune asked for it. */
  async function assertModelNameFree(name: string) {
    const taken = (await modelsRepo.find(name)) !== undefined;
    const pending = taken
      ? []
      : await deps.db
          .select({ id: jobs.id })
          .from(jobs)
          .where(and(eq(jobs.kind, 'finetune'), inArray(jobs.status, ['queued', 'running']), sql`${jobs.request}->>'name' = ${name}`))
          .limit(1);
    if (taken || pending.length > 0) {
      throw new AppError('model_exists', `a model with id "${name}" exists already or is being trained; ids are never reused`, { field: 'body.name' });
    }
  }

  /** Postgres refused the order because another job carries it (jobs_order_tx_unique). */
  function isOrderTaken(err: unknown): boolean {
    for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
      const pg = e as Error & { code?: string; constraint?: string };
      if (pg.code === '23505' && pg.constraint === 'jobs_order_tx_unique') return true;
    }
    return false;
  }

  /** Fails a job that cannot be ordered and releases its hold in full: never charged without a run. */
  async function failUnordered(job: JobRow, err: unknown): Promise<JobRow> {
    deps.log.error({ err, jobId: job.id }, 'ordering failed; job failed and hold released');
    const failed = await deps.db.transaction(async (tx) => {
      const row = await createJobRepository(tx).finish(job.id, ['queued'], {
        status: 'failed',
        error: publicJobError(isOceanError(err, 'model_not_on_chain') ? 'model_not_on_chain' : 'order_failed', ''),
        cost: 0n,
      });
      if (row?.holdId) await deps.ledger.release(row.holdId, tx);
      return row;
    });
    await deps.events.publish(job.id, { type: 'done', status: 'failed' });
    return failed ?? (await jobsRepo.find(job.id)) ?? job;
  }

  // Models whose datatoken is gone from the chain (a chain reset): published again, once at a time.
  const republishing = new Map<string, Promise<void>>();
  function republish(model: ModelRow) {
    const ocean = deps.ocean;
    if (!ocean || republishing.has(model.id)) return;
    deps.log.warn({ model: model.id, datatoken: model.datatokenAddress }, 'model datatoken is not on chain; publishing the model again');
    const run = (async () => {
      const fresh = (await modelsRepo.find(model.id)) ?? model;
      const published = await ocean.ensurePublished(deps.db, fresh);
      ocean.warm(published).catch((err) => deps.log.warn({ err, model: model.id }, 'warming the order pool failed'));
    })()
      .catch((err) => deps.log.error({ err, model: model.id }, 'publishing the model again failed; the next job retries'))
      .finally(() => republishing.delete(model.id));
    republishing.set(model.id, run);
  }
  const notOnChain = (model: ModelRow) =>
    new AppError('model_not_on_chain', `model "${model.id}" is not on chain ${deps.ocean?.chainId} (its datatoken is gone); it is being published again`, {
      headers: { 'Retry-After': RETRY_AFTER_SECONDS },
    });

  /** Covers a committed job with an Ocean order (when the chain is on), then enqueues it. */
  async function dispatch(job: JobRow, model: ModelRow): Promise<JobRow> {
    let current = job;
    if (deps.ocean && !job.orderTxHash) {
      try {
        const ordering = performance.now();
        const ocean = deps.ocean;
        // An order whose hash another job already carries (after a reorg, the same nonce and call sent
        // again give the same hash as the dropped order of a refused job) is no payment for this one.
        const attach = async () => {
          const { order } = await ocean.orderFor(model);
          try {
            return (await jobsRepo.attachOrder(job.id, order.txHash, ocean.chainId, order.blockHash)) ?? (await jobsRepo.find(job.id)) ?? job;
          } catch (err) {
            if (isOrderTaken(err)) return null;
            throw err;
          }
        };
        // Another gateway on this wallet loaded the same stored pool orders at its start: an order it
        // used first is skipped for the next one; the pool runs out of those and places fresh ones.
        let attached: JobRow | null = null;
        for (let tries = 0; !attached && tries < MAX_ORDER_ATTACHES; tries++) attached = await attach();
        current = attached ?? job;
        if (!current.orderTxHash) throw new OceanError('order_failed', 'the orders placed for this job are carried by other jobs');
        recordSpan(job.id, 'gateway.order', performance.now() - ordering);
      } catch (err) {
        // The datatoken is gone (a chain reset): no transaction was sent; publish the model again.
        if (isOceanError(err, 'model_not_on_chain')) republish(model);
        return failUnordered(job, err);
      }
    }
    // The row is committed: if Redis is down now, the reconciler enqueues it later. A model served by
    // an Ocean compute node goes to the gateway's own queue for it, never to the workers.
    const oceanNode = model.computeBackend === 'ocean-node' ? deps.oceanNodeJobs : null;
    await timed(current.id, 'gateway.enqueue', () =>
      (oceanNode ? oceanNode.enqueue(current.id) : deps.queue.enqueue(current.kind as JobKind, current.id))
        .catch((err) => deps.log.error({ err, jobId: current.id }, 'enqueue failed; left to the reconciler')),
    );
    return current;
  }

  /** Waits for the job to be final (see waitFor), without its receipt. */
  async function waitForFinal(job: JobRow, timeoutMs: number): Promise<JobRow> {
    if (FINAL_STATUSES.includes(job.status) || timeoutMs <= 0) return job;
    let wake: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      wake = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((r) => {
      timer = setTimeout(() => r('deadline'), timeoutMs);
    });
    const subscribing = deps.events.subscribe(job.id, (e) => {
      if (e.type === 'done') wake();
    });
    const latest = async () => (await withDeadline(jobsRepo.find(job.id), 1000).catch(() => undefined)) ?? job;
    try {
      const subscribed = await Promise.race([subscribing.then(() => 'subscribed' as const, () => 'failed' as const), deadline]);
      if (subscribed === 'deadline') return await latest();
      // Re-read after subscribing: a job that finished in between is not waited for.
      const now = await latest();
      if (FINAL_STATUSES.includes(now.status)) return now;
      if (subscribed === 'failed') {
        // No events (Redis away): poll Postgres until the deadline instead.
        for (;;) {
          const r = await Promise.race([new Promise<'tick'>((ok) => setTimeout(() => ok('tick'), 250)), deadline]);
          const row = await latest();
          if (r === 'deadline' || FINAL_STATUSES.includes(row.status)) return row;
        }
      }
      await Promise.race([done, deadline]);
      return await latest();
    } finally {
      clearTimeout(timer);
      // Undone whenever it lands (even after the deadline), never awaited here.
      subscribing.then((unsubscribe) => unsubscribe().catch(() => {}), () => {});
    }
  }

  /** A receipt failure is logged, never the answer's: the outbox sweep issues it shortly. */
  async function ensureReceipt(jobId: string, final?: JobRow): Promise<void> {
    await deps.receipts?.drainJob(jobId, final && final.id === jobId && final.status === 'succeeded' ? { job: final } : undefined).catch((err) => deps.log.warn({ err, jobId }, 'issuing the receipt for the answer failed; the outbox sweep retries'));
  }

  return {
    async submit(principal: KeyPrincipal, input: SubmissionInput, idempotency: { key?: string; fingerprint: string }) {
      const submitStarted = performance.now();
      const model = resolveModel(await modelsRepo.find(input.model), input, deps.ocean, Boolean(deps.oceanNodeJobs));
      const s: Submission =
        input.kind === 'finetune'
          ? { kind: 'finetune', model: input.model, modelSha256: input.modelSha256, request: await finetuneRequestFor(deps.db, principal.accountId, input.body, model) }
          : input;
      // Refused before anything is held: a republish is under way (no order could be placed).
      if (republishing.has(model.id)) throw notOnChain(model);
      // A bad request is a 400 whatever the state of the workers.
      const [inputTokens, maxTokens] = measure(model, s, deps.countTokens);
      // Both Redis reads at once. Unknown (Redis unreachable) is not "none": the job is committed and waits.
      const [live, depth] = await Promise.all([
        deps.liveWorkers ? deps.liveWorkers().catch(() => null) : null,
        deps.queue.depth().catch(() => 0),
      ]);
      if (live && !live[JOB_CATALOG[s.kind].queue] && model.computeBackend !== 'ocean-node') {
        throw new AppError('no_workers', `no worker is running ${s.kind} jobs; retry shortly`, {
          headers: { 'Retry-After': RETRY_AFTER_SECONDS },
        });
      }
      if (depth >= deps.maxQueueDepth) {
        throw new AppError('service_unavailable', `the queue holds ${depth} jobs; retry shortly`, {
          headers: { 'Retry-After': '5' },
        });
      }
      if (s.kind === 'finetune') await assertModelNameFree(s.request.name);
      const datasetsCost = s.kind === 'finetune' ? datasetPayments(s.request).reduce((sum, p) => sum + p.amount, 0n) : 0n;
      const maxCost = jobCost(model, maxTokens) + datasetsCost;
      const validated = performance.now();
      let inserted: JobRow | undefined;
      const answer = await withIdempotency(
        deps.db,
        { scope: `account:${principal.accountId}`, key: idempotency.key, fingerprint: idempotency.fingerprint },
        async (tx) => {
          const id = randomUUID();
          const hold =
            maxCost > 0n
              ? await deps.ledger.hold(
                  { accountId: principal.accountId, apiKeyId: principal.keyId, amount: maxCost, idempotencyKey: `job:${id}`, reason: `${s.kind} job ${id}` },
                  tx,
                )
              : null;
          inserted = await createJobRepository(tx).insert({
            id,
            kind: s.kind,
            accountId: principal.accountId,
            apiKeyId: principal.keyId,
            modelId: model.id,
            weightsSha256: model.weightsSha256,
            request: s.request as unknown as Record<string, unknown>,
            inputTokens,
            holdId: hold?.holdId ?? null,
            maxCost,
            pricePerJob: model.pricePerJob,
            pricePer1kTokens: model.pricePer1kTokens,
          });
          return { status: 202, body: { job_id: id } };
        },
      );
      recordSpan(answer.body.job_id, 'gateway.validate', validated - submitStarted);
      recordSpan(answer.body.job_id, 'gateway.hold_insert', performance.now() - validated);
      // A first answer has the row it inserted; a replay reads the job the first request made.
      let job = answer.replayed ? await jobsRepo.find(answer.body.job_id) : inserted;
      if (!job) throw new Error('job vanished after commit');
      if (!answer.replayed) job = await dispatch(job, model);
      // Failed for want of the model on chain (hold released): say so, and when to come back.
      if (!answer.replayed && job.status === 'failed' && (job.error as { code?: string } | null)?.code === 'model_not_on_chain') {
        throw notOnChain(model);
      }
      return { job, replayed: answer.replayed };
    },

    /** Orders and enqueues committed jobs the gateway did not get to (a crash between commit and order). */
    async dispatchPending(olderThanMs: number): Promise<number> {
      const pending = await jobsRepo.listUnfinished(olderThanMs, false);
      for (const { id } of pending) {
        const job = await jobsRepo.find(id);
        const model = job && (await modelsRepo.find(job.modelId));
        if (job && model) await dispatch(job, model);
      }
      return pending.length;
    },

    /**
     * Waits until the job is final or `timeoutMs` passes; returns the latest row. The deadline holds
     * whatever is down: a subscription that cannot be made (Redis away) is not waited for past it.
     * A succeeded job's receipt is issued before this returns, so the answer carries it.
     */
    async waitFor(job: JobRow, timeoutMs: number): Promise<JobRow> {
      const row = await timed(job.id, 'gateway.wait', () => waitForFinal(job, timeoutMs));
      if (row.status === 'succeeded') await timed(job.id, 'gateway.receipt', () => ensureReceipt(row.id, row));
      return row;
    },

    ensureReceipt,

    /**
     * Cancels a job of this account. Queued: cancelled now and its hold released in full. Running on
     * a live worker: the worker is told to stop; tokens generated until then are charged. Running
     * with no queue entry a worker holds (stuck): cancelled now, hold released. Final: 409.
     */
    async cancel(accountId: string, id: string): Promise<{ job: JobRow; immediate: boolean }> {
      const job = await jobsRepo.findOwned(accountId, id);
      if (!job) throw notFound('job');
      if (FINAL_STATUSES.includes(job.status)) throw new AppError('conflict', `job is already ${job.status}`);
      const cancelled = await deps.db.transaction(async (tx) => {
        const row = await createJobRepository(tx).finish(id, ['queued'], { status: 'cancelled', cost: 0n });
        if (row?.holdId) await deps.ledger.release(row.holdId, tx);
        return row;
      });
      if (cancelled) {
        await deps.queue.remove(job.kind as JobKind, id).catch(() => {});
        await deps.events.publish(id, { type: 'done', status: 'cancelled' });
        return { job: cancelled, immediate: true };
      }
      await jobsRepo.requestCancel(id);
      await deps.events.publish(id, { type: 'cancel' }).catch(() => {});
      // Nobody holds its queue entry (failed by BullMQ's stalled limit, lost), or its holder is dead: nobody would act on the cancel.
      const entry = await deps.queue.stateOf(job.kind as JobKind, id).catch(() => null);
      const holderDead =
        entry?.state === 'active' && job.workerId !== null && deps.isWorkerAlive ? !(await deps.isWorkerAlive(job.workerId).catch(() => true)) : false;
      if (entry && (entry.state !== 'active' || holderDead)) {
        const ended = await endUnfinishedJob({ db: deps.db, ledger: deps.ledger, events: deps.events, queue: deps.queue }, job, 'cancelled');
        if (ended) return { job: ended, immediate: true };
      }
      // Otherwise its worker stops it; should that worker be dead, the watchdog cancels it.
      const latest = (await jobsRepo.find(id)) ?? job;
      return { job: latest, immediate: FINAL_STATUSES.includes(latest.status) };
    },

    get: (accountId: string, id: string) => jobsRepo.findOwned(accountId, id),
    list: (accountId: string, page: { limit: number; cursor?: string }) => jobsRepo.listOwned(accountId, page),
  };
}

export type JobService = ReturnType<typeof createJobService>;
