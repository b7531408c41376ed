// Builds a receipt's payload from a finished job, its model and the worker's attestation.
import { randomUUID } from 'node:crypto';
import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { Nullable } from '../http/schemas.js';
import type { JobKind } from '../jobs/jobs-schema.js';
import { canonicalJson, inputSha256, type JsonValue, outputSha256, sha256Hex, toJsonValue } from './canonical-json.js';
import { decodeAttestation, Runtime } from './worker-attestation.js';

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const IsoTime = Type.String({ format: 'date-time' });

export const ReceiptPayload = Type.Object(
  {
    receipt_id: Type.String({ format: 'uuid' }),
    job_id: Type.String({ format: 'uuid' }),
    kind: Type.Union([Type.Literal('infer'), Type.Literal('evaluate')]),
    account: Sha256Hex,
    model: Type.Object(
      {
        id: Type.String(),
        did: Nullable(Type.String()),
        datatoken: Nullable(Type.String()),
        weights_sha256: Sha256Hex,
        chain_id: Nullable(Type.Integer()),
      },
      { additionalProperties: false },
    ),
    input_sha256: Sha256Hex,
    output_sha256: Sha256Hex,
    parameters: Nullable(Type.Record(Type.String(), Type.Unknown())),
    usage: Type.Object(
      { input_tokens: Type.Integer({ minimum: 0 }), output_tokens: Type.Integer({ minimum: 0 }) },
      { additionalProperties: false },
    ),
    cost: Type.String({ pattern: '^(0|[1-9][0-9]*)$', description: 'Micro-credits, as a decimal string' }),
    order: Type.Object(
      { chain_id: Nullable(Type.Integer()), tx_hash: Nullable(Type.String()) },
      { additionalProperties: false },
    ),
    worker: Type.Object(
      { id: Type.String({ minLength: 1 }), runtime: Runtime, device: Type.Union([Type.Literal('cpu'), Type.Literal('gpu')]) },
      { additionalProperties: false },
    ),
    created_at: IsoTime,
    started_at: IsoTime,
    finished_at: IsoTime,
    issued_at: IsoTime,
    log_index: Type.Integer({ minimum: 0 }),
    attestation: Type.String({ description: "The worker's compact JWS over its attestation" }),
  },
  { additionalProperties: false },
);
export type ReceiptPayload = Static<typeof ReceiptPayload>;
export const receiptPayloadChecker = Compile(ReceiptPayload);

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
    parameters: job.kind === 'infer' ? (toJsonValue(job.request.parameters ?? {}) as Record<string, JsonValue>) : null,
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

/** Fields where the embedded attestation disagrees with the receipt (empty when they agree). */
export function attestationMismatches(receipt: ReceiptPayload): string[] {
  let att: ReturnType<typeof decodeAttestation>['payload'];
  try {
    att = decodeAttestation(receipt.attestation).payload;
  } catch (err) {
    return [`attestation unreadable (${(err as Error).message})`];
  }
  const pairs: [string, unknown, unknown][] = [
    ['job_id', att.job_id, receipt.job_id],
    ['model_weights_sha256', att.model_weights_sha256, receipt.model.weights_sha256],
    ['input_sha256', att.input_sha256, receipt.input_sha256],
    ['output_sha256', att.output_sha256, receipt.output_sha256],
    ['runtime', canonicalJson(att.runtime), canonicalJson(receipt.worker.runtime)],
    ['worker_id', att.worker_id, receipt.worker.id],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([field]) => field);
}
