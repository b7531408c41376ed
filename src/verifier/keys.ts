// What a verifier knows about signing keys: the published shapes (JWK, JWKS) and what a kid may
// sign. Key generation and private keys stay on the gateway (src/receipts/signing-keys.ts).

export const KEY_PURPOSES = ['gateway', 'worker'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export const SIGNING_ALG = 'EdDSA';

/** A public key as published in the JWKS and stored in `signing_keys.public_jwk`. */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface Jwks {
  keys: PublicJwk[];
}

/** A JWKS (every key the gateway publishes) or one pinned public key that alone is trusted. */
export type TrustedKeys = Jwks | PublicJwk;

// The kid says what a key may sign: a verifier refuses a receipt signed by a worker key.
export const KID_PREFIX: Record<KeyPurpose, string> = { gateway: 'gw-', worker: 'wk-' };
const KID = /^(gw-\d{4}-\d{2}-\d{2}|wk-[A-Za-z0-9][A-Za-z0-9._-]{0,62})-[0-9a-f]{8}$/;

export function isValidKid(kid: string): boolean {
  return KID.test(kid);
}

/** The purpose a kid was issued for, or undefined for a kid this service never issues. */
export function kidPurpose(kid: string): KeyPurpose | undefined {
  if (!isValidKid(kid)) return undefined;
  return kid.startsWith(KID_PREFIX.gateway) ? 'gateway' : 'worker';
}

/** Whether `value` has the shape of a JWKS or of one JWK (its keys are checked when used). */
export function isTrustedKeys(value: unknown): value is TrustedKeys {
  if (typeof value !== 'object' || value === null) return false;
  if ('keys' in value) return Array.isArray((value as { keys: unknown }).keys);
  return 'x' in value;
}
