// Canonical JSON (RFC 8785) and the SHA-256 digests that receipts and attestations commit to.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { JobKind } from '../jobs/jobs-schema.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Maps a value to the JSON the database would store for it, so a digest taken over a result in
 * memory equals the digest taken over the same result read back from a jsonb column: bigints
 * become decimal strings (JSON has no integer wider than 2^53, and canonicalize would throw),
 * dates ISO strings, non-finite numbers null, and undefined members are dropped.
 */
export function toJsonValue(value: unknown): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'bigint':
      return value.toString(10);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'string':
    case 'boolean':
      return value;
    case 'object': {
      if (value instanceof Date) return value.toISOString();
      if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toJsonValue(v)));
      const out: { [key: string]: JsonValue } = {};
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined && typeof v !== 'function' && typeof v !== 'symbol') out[k] = toJsonValue(v);
      }
      return out;
    }
    default:
      throw new TypeError(`cannot represent a ${typeof value} in canonical JSON`);
  }
}

/** The RFC 8785 serialisation of `value` (after `toJsonValue`). */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(toJsonValue(value));
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The part of a stored job request that is the job's input; decoding parameters are not input. */
export function jobInput(kind: JobKind, request: Record<string, unknown>): { input: unknown } | { texts: unknown } {
  if (kind === 'infer') {
    if (typeof request.input !== 'string') throw new TypeError('an infer request has no string `input`');
    return { input: request.input };
  }
  if (!Array.isArray(request.texts)) throw new TypeError('an evaluate request has no `texts` array');
  return { texts: request.texts };
}

/** SHA-256 of the canonical JSON of the request's input: `{input}` for infer, `{texts}` for evaluate. */
export function inputSha256(kind: JobKind, request: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(jobInput(kind, request)));
}

/** SHA-256 of the canonical JSON of the whole stored result. */
export function outputSha256(result: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(result));
}
