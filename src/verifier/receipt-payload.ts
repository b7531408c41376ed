// The receipt as a verifier reads it: its payload schema, its JWS `typ`, its log leaf, and the
// fields its embedded attestation must agree on. Building and signing stay on the gateway.
import type { ProtectedHeaderParameters } from 'jose';
import { type Static, type TSchema, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { decodeAttestation, Runtime } from './attestation.js';
import { canonicalJson } from './canonical-json.js';
import { decodeCompactJws } from './jws.js';
import { sha256, toHex, utf8 } from './sha256.js';

export const RECEIPT_TYP = 'posthuman-receipt+jws';

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const IsoTime = Type.String({ format: 'date-time' });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ReceiptPayload = Type.Object(
  {
    receipt_id: Type.String({ format: 'uuid' }),
    job_id: Type.String({ format: 'uuid' }),
    kind: Type.Union([Type.Literal('infer'), Type.Literal('evaluate'), Type.Literal('finetune')]),
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
    /**
     * Set when an external Ocean compute node ran the job (paid through Ocean's Escrow): the node, its
     * job and the escrow lock and claim. The attestation is then the gateway's relay of the node's
     * output, and nothing proves which weights the node ran: `model.weights_sha256` names the model
     * asset's registered weights only (verifiers report the weights check as not proven).
     */
    served_by: Type.Optional(
      Type.Object(
        {
          backend: Type.Literal('ocean-node'),
          node: Type.Object({ url: Nullable(Type.String()), address: Type.String(), job_id: Type.String() }, { additionalProperties: false }),
          escrow: Type.Object(
            { chain_id: Type.Integer(), contract: Type.String(), token: Type.String(), lock_tx: Nullable(Type.String()), claim_tx: Nullable(Type.String()) },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Fine-tuning only: what was trained on and what came out. `model.weights_sha256` is the parent's;
     * `new_model.weights_sha256` is the derived model's decoder file, reproducible by a replay.
     */
    training: Type.Optional(
      Type.Object(
        {
          datasets: Type.Array(Type.Object({ id: Nullable(Type.String()), sha256: Sha256Hex }, { additionalProperties: false })),
          steps_run: Type.Integer({ minimum: 0 }),
          loss_before: Nullable(Type.Number()),
          loss_after: Nullable(Type.Number()),
          new_model: Type.Object({ id: Type.String(), weights_sha256: Sha256Hex }, { additionalProperties: false }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ReceiptPayload = Static<typeof ReceiptPayload>;
export const receiptPayloadChecker = Compile(ReceiptPayload);

/** Reads a receipt without verifying anything; throws when it is not a well-formed receipt. */
export function decodeReceipt(jws: string): { header: ProtectedHeaderParameters; payload: ReceiptPayload } {
  const { header, payload } = decodeCompactJws(jws);
  if (header.typ !== RECEIPT_TYP) throw new TypeError(`not a receipt (typ ${String(header.typ)})`);
  if (!receiptPayloadChecker.Check(payload)) throw new TypeError('receipt payload does not match its schema');
  return { header, payload };
}

/**
 * The receipt's transparency-log leaf hash: SHA-256(0x00 || the compact JWS's ASCII bytes). The
 * leaf covers the signature too, so the log commits to exactly the artefact a holder can show.
 */
export async function receiptLeafHash(jws: string): Promise<string> {
  return toHex(await sha256(Uint8Array.of(0x00), utf8(jws)));
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
