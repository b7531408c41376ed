// The worker's own statement of what it ran (weights, input and output digests, runtime), and how
// a verifier reads and checks it. Producing one stays with the worker (src/receipts/worker-attestation.ts).
import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { decodeCompactJws, verifyCompactJws } from './jws.js';
import type { TrustedKeys } from './keys.js';

export const ATTESTATION_TYP = 'posthuman-attestation+jws';

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const Runtime = Type.Object(
  { name: Type.String({ minLength: 1 }), version: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);
export type Runtime = Static<typeof Runtime>;

export const AttestationPayload = Type.Object(
  {
    job_id: Type.String({ format: 'uuid' }),
    model_weights_sha256: Sha256Hex,
    input_sha256: Sha256Hex,
    output_sha256: Sha256Hex,
    runtime: Runtime,
    worker_id: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type AttestationPayload = Static<typeof AttestationPayload>;
export const attestationChecker = Compile(AttestationPayload);

/** Reads an attestation without verifying it; throws if it is not one. */
export function decodeAttestation(jws: string): { kid: string | undefined; payload: AttestationPayload } {
  const { header, payload } = decodeCompactJws(jws);
  if (header.typ !== ATTESTATION_TYP) throw new TypeError(`not an attestation (typ ${String(header.typ)})`);
  if (!attestationChecker.Check(payload)) throw new TypeError('attestation payload does not match its schema');
  return { kid: header.kid, payload };
}

export type AttestationVerification = { ok: true; kid: string; payload: AttestationPayload } | { ok: false; detail: string };

/** Verifies the worker's signature (a worker key from `trusted`) and the payload's shape. */
export async function verifyAttestation(jws: string, trusted: TrustedKeys): Promise<AttestationVerification> {
  const verified = await verifyCompactJws(jws, trusted, { typ: ATTESTATION_TYP, purpose: 'worker' });
  if (!verified.ok) return verified;
  if (!attestationChecker.Check(verified.payload)) return { ok: false, detail: 'attestation payload does not match its schema' };
  return { ok: true, kid: verified.header.kid as string, payload: verified.payload };
}
