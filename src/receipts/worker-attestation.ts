// The worker's own statement of what it ran: weights, input and output digests, signed with its key.
import type { JobKind } from '../jobs/jobs-schema.js';
import { ATTESTATION_TYP, type AttestationPayload, attestationChecker, type Runtime } from '../verifier/attestation.js';
import { inputSha256, outputSha256 } from './canonical-json.js';
import { type JwsSigner, signCanonical } from './signing-keys.js';

// Reading and verifying an attestation is the verifier module's; producing one stays here.
export {
  ATTESTATION_TYP,
  AttestationPayload,
  type AttestationVerification,
  decodeAttestation,
  Runtime,
  verifyAttestation,
} from '../verifier/attestation.js';

/** What the worker computes from the job it ran, in memory, before the result is stored. */
export function attestationPayload(input: {
  jobId: string;
  kind: JobKind;
  request: Record<string, unknown>;
  result: Record<string, unknown>;
  weightsSha256: string;
  workerId: string;
  runtime: Runtime;
}): AttestationPayload {
  return {
    job_id: input.jobId,
    model_weights_sha256: input.weightsSha256,
    input_sha256: inputSha256(input.kind, input.request),
    output_sha256: outputSha256(input.result),
    runtime: { name: input.runtime.name, version: input.runtime.version },
    worker_id: input.workerId,
  };
}

export async function signAttestation(signer: JwsSigner, payload: AttestationPayload): Promise<string> {
  if (signer.purpose !== 'worker') throw new TypeError(`attestations are signed with a worker key, not ${signer.kid}`);
  if (!attestationChecker.Check(payload)) throw new TypeError('attestation payload does not match its schema');
  return signCanonical(signer, payload, ATTESTATION_TYP);
}
