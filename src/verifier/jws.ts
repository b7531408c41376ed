// Reads compact JWS without verifying them, and verifies them against a trusted key set (jose,
// which runs in browsers as well as Node).
import { base64url, compactVerify, decodeProtectedHeader, importJWK, type ProtectedHeaderParameters } from 'jose';
import { canonicalJson } from './canonical-json.js';
import { type KeyPurpose, kidPurpose, type PublicJwk, SIGNING_ALG, type TrustedKeys } from './keys.js';

export interface DecodedJws {
  header: ProtectedHeaderParameters;
  payload: unknown;
  /** The payload bytes as signed, as text. */
  payloadText: string;
}

export function decodeCompactJws(jws: string): DecodedJws {
  const parts = jws.split('.');
  if (parts.length !== 3) throw new TypeError('not a compact JWS (expected three dot-separated parts)');
  const header = decodeProtectedHeader(jws);
  const payloadText = new TextDecoder().decode(base64url.decode(parts[1]));
  return { header, payload: JSON.parse(payloadText), payloadText };
}

export function findTrustedKey(trusted: TrustedKeys, kid: string): PublicJwk | undefined {
  if ('keys' in trusted) return trusted.keys.find((k) => k.kid === kid);
  // A pinned key without a kid is trusted for any kid; with one, only for its own.
  return trusted.kid === undefined || trusted.kid === kid ? trusted : undefined;
}

export type JwsVerification = { ok: true; header: ProtectedHeaderParameters; payload: unknown } | { ok: false; detail: string };

/**
 * Verifies a JWS of the expected `typ`, signed by a trusted key issued for `purpose`, whose
 * payload is canonical JSON. A valid signature by a key of the wrong purpose is still refused:
 * a worker key must not be able to sign a receipt or a tree head.
 */
export async function verifyCompactJws(
  jws: string,
  trusted: TrustedKeys,
  expect: { typ: string; purpose: KeyPurpose },
): Promise<JwsVerification> {
  let decoded: DecodedJws;
  try {
    decoded = decodeCompactJws(jws);
  } catch (err) {
    return { ok: false, detail: `malformed JWS: ${(err as Error).message}` };
  }
  const { header } = decoded;
  if (header.alg !== SIGNING_ALG) return { ok: false, detail: `unexpected alg ${String(header.alg)}` };
  if (header.typ !== expect.typ) return { ok: false, detail: `unexpected typ ${String(header.typ)} (want ${expect.typ})` };
  const kid = header.kid;
  if (typeof kid !== 'string') return { ok: false, detail: 'the JWS header names no kid' };
  if (kidPurpose(kid) !== expect.purpose) return { ok: false, detail: `key ${kid} is not a ${expect.purpose} key` };
  const jwk = findTrustedKey(trusted, kid);
  if (!jwk) return { ok: false, detail: `key ${kid} is not among the trusted keys` };
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return { ok: false, detail: `trusted key ${kid} is not an Ed25519 key` };
  try {
    const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, SIGNING_ALG);
    await compactVerify(jws, key, { algorithms: [SIGNING_ALG] });
  } catch (err) {
    return { ok: false, detail: `signature by ${kid} does not verify: ${(err as Error).message}` };
  }
  // The signer only ever signs canonical bytes; anything else was not produced by this service.
  if (canonicalJson(decoded.payload) !== decoded.payloadText) return { ok: false, detail: 'the payload is not canonical JSON' };
  return { ok: true, header, payload: decoded.payload };
}
