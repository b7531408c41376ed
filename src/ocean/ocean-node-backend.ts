// Runs a job of an open model on an external Ocean compute node, from the gateway (it holds the
// consumer wallet; workers hold none): initialize, fund and authorize the node in Ocean's Escrow,
// start (the node locks its payment), poll, fetch the result, then settle the customer's hold like
// any job. The escrow_payments row follows each step; what the chain does after (claim, or cancel
// of an expired lock) is read back by the escrow reconciler. A start is never sent twice for a job:
// a lost answer may mean a lock, so the job fails uncharged and the row waits for the reconciler.
import { setTimeout as delay } from 'node:timers/promises';
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { getAddress } from 'ethers';
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
  type NodeEnvironment,
  type NodeJob,
  type NodePaymentTerms,
  type StartRequest,
} from './compute-node-client.js';
import { type EscrowPayer, escrowJobIdOfNodeJob } from './escrow.js';
import { reconcileEscrow } from './escrow-reconciler.js';
import { OCEAN_NODE_RELAY } from './ocean-node-receipt.js';
import { OCEAN_NODE_CONCURRENCY } from './ocean-node-queue.js';
import { addToReceiptOutbox, type OutboxEntry } from '../receipts/receipt-outbox.js';
import type { WorkerReceipts } from '../receipts/worker-receipts.js';
import { escrowPayments } from './escrow-schema.js';

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

/** A failure before anything was started on the node: retried, then the job fails uncharged. */
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

export function createOceanNodeBackend(deps: OceanNodeBackendDeps) {
  const jobs = createJobRepository(deps.db);
  const models = createModelRepository(deps.db);
  const token = getAddress(deps.token);
  const maxJobDuration = deps.maxJobDurationSeconds ?? 600;
  const pollMs = deps.pollMs ?? 500;
  const clients = new Map<string, ComputeNodeClient>();
  // authorize() replaces a payee's limits: one update at a time per payee, so none undoes another.
  const authorizing = new Map<string, Promise<unknown>>();
  /** Amounts of this gateway's jobs deposited for but not locked yet. */
  let unlocked = 0n;

  const clientFor = (url: string) => {
    let client = clients.get(url);
    if (!client) {
      client = createComputeNodeClient({ baseUrl: url, consumerAddress: deps.payer.address, sign: deps.sign, timeoutMs: deps.nodeTimeoutMs });
      clients.set(url, client);
    }
    return client;
  };

  const paymentOf = async (jobId: string) => (await deps.db.select().from(escrowPayments).where(eq(escrowPayments.jobId, jobId)))[0];
  const updatePayment = (jobId: string, patch: Partial<typeof escrowPayments.$inferInsert>) =>
    deps.db.update(escrowPayments).set({ ...patch, updatedAt: new Date() }).where(eq(escrowPayments.jobId, jobId));

  function pickEnvironment(envs: NodeEnvironment[]): NodeEnvironment {
    const env = envs.find((e) => (e.fees[String(deps.chainId)] ?? []).some((f) => getAddress(f.feeToken) === token));
    if (!env) throw new NodeJobError('compute_node_refused', `the node has no environment paid in ${token} on chain ${deps.chainId}`, false);
    return env;
  }

  /** The node's terms must name this chain's Escrow, our token, the environment's payee and a bounded amount. */
  function checkTerms(terms: NodePaymentTerms, env: NodeEnvironment): bigint {
    const amount = BigInt(terms.amount);
    const problems = [
      getAddress(terms.escrowAddress) !== deps.payer.escrowAddress && `escrow ${terms.escrowAddress} is not ${deps.payer.escrowAddress}`,
      terms.chainId !== deps.chainId && `chain ${terms.chainId}`,
      getAddress(terms.token) !== token && `token ${terms.token}`,
      getAddress(terms.payee) !== getAddress(env.consumerAddress) && `payee ${terms.payee} is not the environment's`,
      amount > deps.maxPaymentPerJob && `amount ${amount} is above the ${deps.maxPaymentPerJob} allowed per job`,
    ].filter(Boolean);
    if (problems.length) throw new NodeJobError('compute_node_refused', `the node's payment terms are refused: ${problems.join('; ')}`, false);
    return amount;
  }

  /** Lets the payee lock this amount for this long, on top of what it holds now. */
  function ensureAuthorized(payee: string, amount: bigint, lockSeconds: number) {
    const run = (authorizing.get(payee) ?? Promise.resolve()).then(async () => {
      const auth = await deps.payer.authorization(token, payee);
      const needed = (auth?.currentLockedAmount ?? 0n) + amount;
      const enough = auth && auth.maxLockedAmount >= needed && auth.maxLockSeconds >= BigInt(lockSeconds) && auth.currentLocks < auth.maxLockCounts;
      if (enough) return;
      // Room for as many jobs at once as the queue runs; the per-job cap bounds each of them, so the
      // node can never lock more than that many times the cap beyond what it holds now.
      const room = BigInt(OCEAN_NODE_CONCURRENCY);
      await deps.payer.authorize(token, payee, {
        maxLockedAmount: needed + room * deps.maxPaymentPerJob,
        maxLockSeconds: BigInt(Math.max(lockSeconds, Number(auth?.maxLockSeconds ?? 0n))),
        maxLockCounts: (auth?.currentLocks ?? 0n) + room + 1n,
      });
    });
    authorizing.set(payee, run.catch(() => undefined));
    return run;
  }

  async function startOnNode(job: JobRow, model: ModelRow, client: ComputeNodeClient): Promise<string> {
    const env = pickEnvironment(await client.environments(deps.chainId));
    const request = {
      datasets: [{ documentId: model.did ?? undefined, serviceId: model.serviceId ?? undefined, transferTxId: job.orderTxHash ?? undefined }],
      // The posthuman runtime as a C2D algorithm: it reads the job from algocustomdata.
      algorithm: {
        meta: { container: { image: 'posthuman/runtime', tag: 'c2d', entrypoint: 'posthuman-c2d $ALGO', checksum: '' } },
        algocustomdata: { kind: job.kind, request: job.request },
      },
      environment: env.id,
      payment: { chainId: deps.chainId, token, resources: [{ id: 'cpu', amount: 1 }] },
      resources: [{ id: 'cpu', amount: 1 }],
      maxJobDuration,
    };
    const init = await client.initialize(request);
    const amount = checkTerms(init.payment, env);
    const payee = getAddress(init.payment.payee);
    // Jobs between their deposit and their lock all need their amount available at once.
    unlocked += amount;
    try {
      await deps.payer.ensureAvailable(token, unlocked);
      await ensureAuthorized(payee, amount, init.payment.minLockSeconds);
      return await recordAndStart(job, client, request, { payee, amount, lockSeconds: init.payment.minLockSeconds });
    } finally {
      unlocked -= amount;
    }
  }

  async function recordAndStart(job: JobRow, client: ComputeNodeClient, request: StartRequest, terms: { payee: string; amount: bigint; lockSeconds: number }) {
    const { payee, amount } = terms;
    // Recorded before the start is sent: whatever happens to its answer, the payment is known.
    await deps.db
      .insert(escrowPayments)
      .values({
        jobId: job.id,
        chainId: deps.chainId,
        escrowAddress: deps.payer.escrowAddress,
        token,
        payer: deps.payer.address,
        payee,
        amount: amount.toString(),
        status: 'pending',
        expiresAt: new Date(Date.now() + terms.lockSeconds * 1000),
      })
      .onConflictDoNothing({ target: escrowPayments.jobId });
    let started: NodeJob;
    try {
      started = await client.start(request);
    } catch (err) {
      if (err instanceof ComputeNodeError && !err.retryable) {
        // ocean-node refuses before it locks (signature, validation, a lock the escrow refused), so the
        // row is failed, and cannot take a later lost start's lock from the reconciler. Should the node
        // have locked anyway, that lock is an orphan the reconciler cancels after expiry.
        await updatePayment(job.id, { status: 'failed' });
        throw new NodeJobError('compute_node_refused', `the node refused to start the job: ${err.message}`, false);
      }
      throw new NodeJobError('compute_node_start_unknown', `the start's answer was lost (${(err as Error).message}); a lock may exist`, false);
    }
    await updatePayment(job.id, { nodeJobId: started.jobId, escrowJobId: escrowJobIdOfNodeJob(started.jobId).toString() });
    await syncWithChain(job.id, payee);
    return started.jobId;
  }

  /** Reads the node's lock, claim or cancel back from the chain into the rows of this payee. */
  async function syncWithChain(jobId: string, payee: string) {
    await reconcileEscrow({ db: deps.db, payer: deps.payer, token, payees: [payee] }).catch((err) =>
      deps.log.warn({ err, jobId }, 'reading the escrow back from the chain failed; the reconciler retries'),
    );
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

  async function finishFromNode(job: JobRow, model: ModelRow, client: ComputeNodeClient, done: NodeJob, cancelled: boolean) {
    if (cancelled && !isNodeJobDone(done.status)) return settle(job, model, { status: 'cancelled', cost: 0n });
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
    const payment = await paymentOf(job.id);
    if (payment) await syncWithChain(job.id, payment.payee);
    const receipt = deps.receipts ? await deps.receipts.attest(job, result, OCEAN_NODE_RELAY.runtime) : undefined;
    await settle(job, model, {
      status: 'succeeded',
      cost: cost > job.maxCost ? job.maxCost : cost,
      result,
      outputTokens: infer ? (out.output_tokens ?? 0) : 0,
      computeMs: out.compute_ms,
      receipt,
    });
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
    try {
      void deps.events.publish(jobId, { type: 'status', status: 'running' }).catch(() => {});
      if (job.cancelRequestedAt) abort.abort();
      const payment = await paymentOf(jobId);
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
      await finishFromNode(job, model, client, done, abort.signal.aborted);
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
        const payment = await paymentOf(jobId).catch(() => undefined);
        if (payment) await syncWithChain(jobId, payment.payee);
        const status = (await jobs.find(jobId))?.status;
        if (status && status !== 'running') await deps.events.publish(jobId, { type: 'done', status }).catch(() => {});
      }
    }
  }

  /**
   * Brings every open payment (pending, locked) to the chain's truth and cancels expired unclaimed
   * locks, refunding them: what settles a lost start answer or a node that never claimed.
   */
  async function reconcileOpen(): Promise<void> {
    const open = await deps.db
      .selectDistinct({ payee: escrowPayments.payee })
      .from(escrowPayments)
      .where(and(eq(escrowPayments.chainId, deps.chainId), inArray(escrowPayments.status, ['pending', 'locked'])));
    if (open.length === 0) return;
    await reconcileEscrow({ db: deps.db, payer: deps.payer, token, payees: open.map((r) => r.payee) });
  }

  return { run, reconcileOpen };
}

export type OceanNodeBackend = ReturnType<typeof createOceanNodeBackend>;

