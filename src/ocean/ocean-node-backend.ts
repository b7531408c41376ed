// Runs a job of an open model on an external Ocean compute node, from the gateway (it holds the
// consumer wallet; workers hold none): initialize, fund and authorize the node in Ocean's Escrow,
// start (the node locks its payment), poll, fetch the result, then settle the customer's hold like
// any job. The escrow_payments row follows each step; what the chain does after (claim, or cancel
// of an expired lock) is read back by the escrow reconciler. A start is never sent twice for a job:
// a lost answer may mean a lock, so the job fails uncharged and the row waits for the reconciler.
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Ledger } from '../credits/credit-ledger.js';
import type { Db } from '../db/database.js';
import { publicJobError } from '../jobs/job-errors.js';
import type { JobEvents } from '../jobs/job-events.js';
import { jobCost } from '../jobs/job-pricing.js';
import { createJobRepository, type JobRow } from '../jobs/job-repository.js';
import type { JobStatus } from '../jobs/jobs-schema.js';
import { captureJobHold } from '../jobs/job-settlement.js';
import { createModelRepository, type ModelRow } from '../models/model-repository.js';
import {
  ComputeNodeError,
  type ConsumerSign,
  createComputeNodeClient,
  type ComputeNodeClient,
  isNodeJobDone,
  isNodeJobFailed,
  type NodeJob,
  type StartRequest,
} from './compute-node-client.js';
import type { EscrowPayer } from './escrow.js';
import { createOceanNodePayments, TermsRefusedError } from './ocean-node-payments.js';
import { OCEAN_NODE_RELAY } from './ocean-node-receipt.js';
import { OCEAN_NODE_CONCURRENCY } from './ocean-node-queue.js';
import { addToReceiptOutbox, type OutboxEntry } from '../receipts/receipt-outbox.js';
import type { WorkerReceipts } from '../receipts/worker-receipts.js';

export interface OceanNodeBackendDeps {
  db: Db;
  ledger: Ledger;
  events: JobEvents;
  log: FastifyBaseLogger;
  /** The gateway's consumer wallet in the Escrow contract (deposit, authorize). */
  payer: EscrowPayer;
  /** Signs the node's consumer messages with the same wallet. */
  sign: ConsumerSign;
  chainId: number;
  /** The token nodes are paid in (OCEAN on the local chain). */
  token: string;
  /** First block with escrow events to read (the contracts' start block). */
  fromBlock?: number;
  /** Recorded as the job's worker: the gateway instance that drives it. */
  runnerId: string;
  feeBps?: bigint | number;
  /** Most a node may ask to lock for one job, in token base units; a higher ask is refused. */
  maxPaymentPerJob: bigint;
  /** Seconds a job may run on the node (sent as maxJobDuration). Default 600. */
  maxJobDurationSeconds?: number;
  /** Per request to the node. Default 10 s. */
  nodeTimeoutMs?: number;
  /** Between status polls. Default 500 ms. */
  pollMs?: number;
  /** The gateway's relay attestation of a node's output, for the receipt outbox; null with RECEIPTS=off. */
  receipts: WorkerReceipts | null;
}

/** A job's failure on or with a node, with its job failure code; only a `retryable` one is tried again. */
class NodeJobError extends Error {
  constructor(
    readonly code: 'compute_node_unavailable' | 'compute_node_refused' | 'compute_node_start_unknown' | 'compute_node_job_failed',
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** What the posthuman algorithm writes as its `output` result on the node. */
interface NodeOutput {
  output?: string;
  finish_reason?: string;
  input_tokens?: number;
  output_tokens?: number;
  loss?: number;
  perplexity?: number;
  tokens?: number;
  results?: unknown[];
  compute_ms?: number;
}

/** Terms the gateway will not pay are a refusal: permanent, nothing sent. */
function asRefusal<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof TermsRefusedError) throw new NodeJobError('compute_node_refused', err.message, false);
    throw err;
  }
}

export function createOceanNodeBackend(deps: OceanNodeBackendDeps) {
  const jobs = createJobRepository(deps.db);
  const models = createModelRepository(deps.db);
  const payments = createOceanNodePayments({ ...deps, concurrency: OCEAN_NODE_CONCURRENCY });
  const maxJobDuration = deps.maxJobDurationSeconds ?? 600;
  const pollMs = deps.pollMs ?? 500;
  const clients = new Map<string, ComputeNodeClient>();
  const clientFor = (url: string) => {
    let client = clients.get(url);
    if (!client) {
      client = createComputeNodeClient({ baseUrl: url, consumerAddress: deps.payer.address, sign: deps.sign, timeoutMs: deps.nodeTimeoutMs });
      clients.set(url, client);
    }
    return client;
  };

  async function startOnNode(job: JobRow, model: ModelRow, client: ComputeNodeClient): Promise<string> {
    const envs = await client.environments(deps.chainId);
    const env = asRefusal(() => payments.pickEnvironment(envs));
    const request: StartRequest = {
      datasets: [{ documentId: model.did ?? undefined, serviceId: model.serviceId ?? undefined, transferTxId: job.orderTxHash ?? undefined }],
      // The posthuman runtime as a C2D algorithm: it reads the job from algocustomdata.
      algorithm: {
        meta: { container: { image: 'posthuman/runtime', tag: 'c2d', entrypoint: 'posthuman-c2d $ALGO', checksum: '' } },
        algocustomdata: { kind: job.kind, request: job.request },
      },
      environment: env.id,
      payment: { chainId: deps.chainId, token: payments.token, resources: [{ id: 'cpu', amount: 1 }] },
      resources: [{ id: 'cpu', amount: 1 }],
      maxJobDuration,
    };
    const init = await client.initialize(request);
    const terms = asRefusal(() => payments.checkTerms(init.payment, env));
    return payments.payFor(job.id, terms, async () => {
      let started: NodeJob;
      try {
        started = await client.start(request);
      } catch (err) {
        if (err instanceof ComputeNodeError && !err.retryable) {
          // ocean-node refuses before it locks (signature, validation, a lock the escrow refused), so
          // the row is failed and cannot take a later lost start's lock from the reconciler's
          // matching. Should the node have locked anyway, that lock is an orphan refunded after expiry.
          await payments.refused(job.id);
          throw new NodeJobError('compute_node_refused', `the node refused to start the job: ${err.message}`, false);
        }
        throw new NodeJobError('compute_node_start_unknown', `the start's answer was lost (${(err as Error).message}); a lock may exist`, false);
      }
      await payments.started(job.id, started.jobId);
      await payments.sync(job.id, terms.payee);
      return started.jobId;
    });
  }

  async function poll(client: ComputeNodeClient, jobId: string, nodeJobId: string, signal: AbortSignal): Promise<NodeJob> {
    const deadline = Date.now() + (maxJobDuration + 60) * 1000;
    let last = -1;
    for (;;) {
      const status = await client.status(nodeJobId);
      if (!status) throw new NodeJobError('compute_node_job_failed', `the node does not know job ${nodeJobId}`, false);
      if (status.status !== last) {
        last = status.status;
        deps.log.debug({ jobId, nodeJobId, status: status.status, statusText: status.statusText.trim() }, 'ocean-node job status');
      }
      if (isNodeJobDone(status.status)) return status;
      if (signal.aborted || Date.now() > deadline) {
        await client.stop(nodeJobId).catch((err) => deps.log.warn({ err, jobId }, 'stopping the node job failed'));
        if (signal.aborted) return status;
        throw new NodeJobError('compute_node_job_failed', `the node job ran past ${maxJobDuration} s`, false);
      }
      await delay(pollMs);
    }
  }

  /** Finishes a running job and settles its hold in one transaction; false when something else finished it first. */
  async function settle(
    job: JobRow,
    model: ModelRow,
    { receipt, ...s }: { status: JobStatus; cost: bigint; result?: Record<string, unknown>; outputTokens?: number; computeMs?: number; error?: { code: string; message: string }; receipt?: OutboxEntry },
  ) {
    return deps.db.transaction(async (tx) => {
      const finished = await createJobRepository(tx).finish(job.id, ['running'], s);
      if (!finished) return false;
      if (finished.status === 'succeeded' && receipt) await addToReceiptOutbox(tx, receipt);
      if (!job.holdId) return true;
      if (s.cost === 0n) await deps.ledger.release(job.holdId, tx);
      else await captureJobHold(tx, deps, { holdId: job.holdId, modelId: job.modelId, cost: s.cost, captured: s.cost, owner: model.ownerAccountId });
      return true;
    });
  }

  /** Settles the job from the node's answer; true when its payment was read back from the chain on the way. */
  async function finishFromNode(job: JobRow, model: ModelRow, client: ComputeNodeClient, done: NodeJob, cancelled: boolean): Promise<boolean> {
    if (cancelled && !isNodeJobDone(done.status)) {
      await settle(job, model, { status: 'cancelled', cost: 0n });
      return false;
    }
    if (isNodeJobFailed(done.status)) throw new NodeJobError('compute_node_job_failed', `the node job ended with status ${done.status} (${done.statusText})`, false);
    const file = done.results.find((r) => r.type === 'output');
    if (!file) throw new NodeJobError('compute_node_job_failed', 'the node job finished without an output', false);
    let out: NodeOutput;
    try {
      out = JSON.parse((await client.result(done.jobId, file.index ?? 0)).toString('utf8')) as NodeOutput;
    } catch (err) {
      if (err instanceof ComputeNodeError && err.retryable) throw err;
      throw new NodeJobError('compute_node_job_failed', `the node's output is not the runtime's: ${(err as Error).message}`, false);
    }
    const infer = job.kind === 'infer';
    if (infer ? typeof out.output !== 'string' : typeof out.loss !== 'number') {
      throw new NodeJobError('compute_node_job_failed', `the node's output has no ${infer ? 'text' : 'loss'}`, false);
    }
    const billed = infer ? (out.input_tokens ?? job.inputTokens) + (out.output_tokens ?? 0) : job.inputTokens;
    const cost = jobCost(job, billed);
    const result = infer
      ? { output: out.output, finish_reason: out.finish_reason ?? 'length' }
      : { loss: out.loss, perplexity: out.perplexity, tokens: out.tokens, results: out.results ?? [] };
    // The node has claimed by now (ocean-node settles before it reports the job finished): read the
    // lock and claim back first, so the receipt issued from the outbox names them.
    const payment = await payments.find(job.id);
    if (payment) await payments.sync(job.id, payment.payee);
    const receipt = deps.receipts ? await deps.receipts.attest(job, result, OCEAN_NODE_RELAY.runtime) : undefined;
    await settle(job, model, {
      status: 'succeeded',
      cost: cost > job.maxCost ? job.maxCost : cost,
      result,
      outputTokens: infer ? (out.output_tokens ?? 0) : 0,
      computeMs: out.compute_ms,
      receipt,
    });
    return payment !== undefined;
  }

  /** Ends the job uncharged, its hold released; the escrow row is left for the reconciler. */
  async function fail(job: JobRow, model: ModelRow, code: string, message: string) {
    deps.log.error({ jobId: job.id, code, message }, 'ocean-node job failed; hold released');
    await settle(job, model, { status: 'failed', cost: 0n, error: publicJobError(code, message) });
  }

  async function run(jobId: string, ctx: { finalAttempt: boolean }): Promise<void> {
    const job = await jobs.markRunning(jobId, deps.runnerId);
    if (!job) return; // final already
    const model = await models.find(job.modelId);
    if (!model?.computeNodeUrl) throw new Error(`model ${job.modelId} is not served by an Ocean compute node`);
    const client = clientFor(model.computeNodeUrl);
    const abort = new AbortController();
    const unsubscribe = await deps.events.subscribe(jobId, (e) => {
      if (e.type === 'cancel') abort.abort();
    });
    let final = false;
    // The payment read back from the chain at the end, unless finishing already did (a full read of the escrow's events).
    let synced = false;
    try {
      void deps.events.publish(jobId, { type: 'status', status: 'running' }).catch(() => {});
      if (job.cancelRequestedAt) abort.abort();
      const payment = await payments.find(jobId);
      if (payment && !payment.nodeJobId) {
        // An earlier attempt sent a start whose answer never came: never start twice.
        throw new NodeJobError('compute_node_start_unknown', 'an earlier start of this job got no answer; not started again', false);
      }
      if (abort.signal.aborted && !payment) {
        final = await settle(job, model, { status: 'cancelled', cost: 0n });
        return;
      }
      const nodeJobId = payment?.nodeJobId ?? (await startOnNode(job, model, client));
      const done = await poll(client, jobId, nodeJobId, abort.signal);
      synced = await finishFromNode(job, model, client, done, abort.signal.aborted);
      final = true;
    } catch (err) {
      const retryable = err instanceof NodeJobError ? err.retryable : err instanceof ComputeNodeError ? err.retryable : true;
      if (retryable && !ctx.finalAttempt) {
        deps.log.warn({ err, jobId }, 'ocean-node job attempt failed; it will be retried');
        throw err;
      }
      const code = err instanceof NodeJobError ? err.code : err instanceof ComputeNodeError ? 'compute_node_unavailable' : 'worker_error';
      await fail(job, model, code, (err as Error).message);
      final = true;
    } finally {
      await unsubscribe().catch(() => {});
      if (final) {
        const payment = synced ? undefined : await payments.find(jobId).catch(() => undefined);
        if (payment) await payments.sync(jobId, payment.payee);
        const status = (await jobs.find(jobId))?.status;
        if (status && status !== 'running') await deps.events.publish(jobId, { type: 'done', status }).catch(() => {});
      }
    }
  }

  return { run, reconcileOpen: payments.reconcileOpen };
}

export type OceanNodeBackend = ReturnType<typeof createOceanNodeBackend>;

