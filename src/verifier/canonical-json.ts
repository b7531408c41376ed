// Canonical JSON (RFC 8785): the exact bytes every receipt, attestation and tree head signs.
// Pure, so the gateway signs and a browser verifies with the same serialisation.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Maps a value to the JSON the database would store for it, so a digest taken over a result in
 * memory equals the digest taken over the same result read back from a jsonb column: bigints
 * become decimal strings (JSON has no integer wider than 2^53),
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

/**
 * RFC 8785 text of a JSON value: ECMAScript number and string serialisation (which JSON.stringify
 * implements), members sorted by their names' UTF-16 code units (what a plain sort compares), no
 * whitespace.
 */
function serialize(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  const names = Object.keys(value).sort();
  return `{${names.map((k) => `${JSON.stringify(k)}:${serialize(value[k])}`).join(',')}}`;
}

/** The RFC 8785 serialisation of `value` (after `toJsonValue`). */
export function canonicalJson(value: unknown): string {
  return serialize(toJsonValue(value));
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
