// Canonical JSON (RFC 8785) and the SHA-256 digests that receipts and attestations commit to.
import { createHash } from 'node:crypto';
import type { JobKind } from '../jobs/jobs-schema.js';

import { canonicalJson } from '../verifier/canonical-json.js';

// The serialisation is the verifier's (pure, browser-safe); the digests below use node:crypto.
export { canonicalBytes, canonicalJson, type JsonValue, toJsonValue } from '../verifier/canonical-json.js';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The part of a stored job request that is the job's input; decoding parameters are not input. */
export function jobInput(kind: JobKind, request: Record<string, unknown>): { input: unknown } | { texts: unknown } | { datasets: unknown } {
  if (kind === 'finetune') {
    // Training data is named by the sha256 of each dataset (inline texts are hashed on submission).
    if (!Array.isArray(request.datasets)) throw new TypeError('a finetune request has no `datasets` array');
    return { datasets: request.datasets.map((d) => (d as { sha256?: unknown }).sha256) };
  }
  if (kind === 'infer') {
    if (typeof request.input !== 'string') throw new TypeError('an infer request has no string `input`');
    return { input: request.input };
  }
  if (!Array.isArray(request.texts)) throw new TypeError('an evaluate request has no `texts` array');
  return { texts: request.texts };
}

/** SHA-256 of the canonical JSON of the request's input: `{input}` for infer, `{texts}` for evaluate, `{datasets: [sha256…]}` for finetune. */
export function inputSha256(kind: JobKind, request: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(jobInput(kind, request)));
}

/** SHA-256 of the canonical JSON of the whole stored result. */
export function outputSha256(result: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(result));
}
