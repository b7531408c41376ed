// Builds a receipt's payload from a finished job, its model and the worker's attestation.
import { randomUUID } from 'node:crypto';
import type { JobKind } from '../jobs/jobs-schema.js';
import type { Runtime } from '../verifier/attestation.js';
import { attestationMismatches, type ReceiptPayload, receiptPayloadChecker } from '../verifier/receipt-payload.js';
import { inputSha256, type JsonValue, outputSha256, sha256Hex, toJsonValue } from './canonical-json.js';

// The payload's schema and the attestation agreement are the verifier module's; building stays here.
export { attestationMismatches, ReceiptPayload, receiptPayloadChecker } from '../verifier/receipt-payload.js';

/** The job fields a receipt is built from (a `jobs` row satisfies it). */
export interface ReceiptJob {
  id: string;
  kind: JobKind;
  accountId: string;
  weightsSha256: string;
  request: Record<string, unknown>;
  result: Record<string, unknown> | null;
  inputTokens: number;
  outputTokens: number | null;
  cost: bigint | null;
  orderTxHash: string | null;
  orderChainId: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The model fields a receipt names (a `models` row satisfies it). */
export interface ReceiptModel {
  id: string;
  did: string | null;
  datatokenAddress: string | null;
  chainId: number | null;
}

export interface ReceiptWorker {
  id: string;
  runtime: Runtime;
  device: 'cpu' | 'gpu';
}

export interface ReceiptInput {
  job: ReceiptJob;
  model: ReceiptModel;
  worker: ReceiptWorker;
  /** The worker's compact JWS; its digests must equal the ones computed here from the stored job. */
  attestation: string;
  /** The external Ocean compute node that ran the job, when one did. */
  servedBy?: ReceiptPayload['served_by'];
  logIndex: number;
  receiptId?: string;
  issuedAt?: Date;
}

/**
 * The account as a pseudonym: sha256("posthuman-account:" + account id). Account ids are random
 * UUIDs, so the digest cannot be reversed by enumeration, and an account holder can recompute it
 * offline to find their receipts with no secret from the gateway (an HMAC would need one).
 */
export function accountPseudonym(accountId: string): string {
  return sha256Hex(`posthuman-account:${accountId}`);
}

export class ReceiptBuildError extends Error {
  override name = 'ReceiptBuildError';
}

function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new ReceiptBuildError(`cannot issue a receipt: the job has no ${what}`);
  return value;
}

/** What a replay needs: decoding parameters (seed included) for infer, hyper-parameters for finetune. */
function receiptParameters(job: ReceiptJob): Record<string, JsonValue> | null {
  if (job.kind === 'infer') return toJsonValue(job.request.parameters ?? {}) as Record<string, JsonValue>;
  if (job.kind === 'finetune') return toJsonValue(job.request.hyperparameters ?? {}) as Record<string, JsonValue>;
  return null;
}

/** A fine-tune's facts in the receipt: the datasets' hashes, the losses and the new weights' hash. */
function trainingFacts(result: Record<string, unknown>): NonNullable<ReceiptPayload['training']> {
  const t = required(result.training as Record<string, unknown> | undefined, 'training result');
  const newModel = required(t.new_model as { id: string; weights_sha256: string } | null, 'new model');
  return {
    datasets: (t.datasets as Array<{ id: string | null; sha256: string }>).map((d) => ({ id: d.id, sha256: d.sha256 })),
    steps_run: t.steps_run as number,
    loss_before: (t.loss_before as number | null) ?? null,
    loss_after: (t.loss_after as number | null) ?? null,
    new_model: { id: newModel.id, weights_sha256: newModel.weights_sha256 },
  };
}

/** Builds and checks the payload; refuses a job the attestation does not describe. */
export function buildReceiptPayload(input: ReceiptInput): ReceiptPayload {
  const { job, model, worker } = input;
  const result = required(job.result, 'result');
  const payload: ReceiptPayload = {
    receipt_id: input.receiptId ?? randomUUID(),
    job_id: job.id,
    kind: job.kind,
    account: accountPseudonym(job.accountId),
    model: {
      id: model.id,
      did: model.did,
      datatoken: model.datatokenAddress,
      weights_sha256: job.weightsSha256,
      chain_id: model.chainId,
    },
    input_sha256: inputSha256(job.kind, job.request),
    output_sha256: outputSha256(result),
    // Parameters (seed included) are what a replay needs; an evaluation has none.
    parameters: receiptParameters(job),
    usage: { input_tokens: job.inputTokens, output_tokens: required(job.outputTokens, 'output token count') },
    cost: required(job.cost, 'cost').toString(10),
    order: { chain_id: job.orderChainId, tx_hash: job.orderTxHash },
    worker: { id: worker.id, runtime: { name: worker.runtime.name, version: worker.runtime.version }, device: worker.device },
    created_at: job.createdAt.toISOString(),
    started_at: required(job.startedAt, 'start time').toISOString(),
    finished_at: required(job.finishedAt, 'finish time').toISOString(),
    issued_at: (input.issuedAt ?? new Date()).toISOString(),
    log_index: input.logIndex,
    attestation: input.attestation,
    ...(job.kind === 'finetune' ? { training: trainingFacts(result) } : {}),
    ...(input.servedBy ? { served_by: input.servedBy } : {}),
  };
  const mismatches = attestationMismatches(payload);
  if (mismatches.length > 0) {
    throw new ReceiptBuildError(`the worker's attestation does not match the job: ${mismatches.join(', ')}`);
  }
  if (!receiptPayloadChecker.Check(payload)) {
    const first = receiptPayloadChecker.Errors(payload)[0];
    throw new ReceiptBuildError(`receipt payload is invalid at ${first?.instancePath ?? '?'}: ${first?.message ?? ''}`);
  }
  return payload;
}
