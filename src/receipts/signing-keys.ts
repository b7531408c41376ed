// Ed25519 signing keys: kids, key generation, and the signer that turns canonical JSON into a JWS.
import { randomBytes } from 'node:crypto';
import { CompactSign, type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { type KeyPurpose, kidPurpose, type PublicJwk, SIGNING_ALG } from '../verifier/keys.js';
import { canonicalBytes } from './canonical-json.js';

// What a verifier needs (key shapes, kid rules) lives in the verifier module; key generation here.
export { isValidKid, type Jwks, KEY_PURPOSES, type KeyPurpose, kidPurpose, type PublicJwk, SIGNING_ALG } from '../verifier/keys.js';

/** Signs bytes as a compact JWS with one key; the private key never leaves the closure. */
export interface JwsSigner {
  readonly kid: string;
  readonly purpose: KeyPurpose;
  sign(payload: Uint8Array, typ: string): Promise<string>;
}

const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A worker's name becomes part of its kid and of a file name, so it is limited to a safe alphabet. */
export function assertWorkerName(name: string): void {
  if (!WORKER_NAME.test(name)) {
    throw new TypeError(`worker key name must match ${WORKER_NAME} (got ${JSON.stringify(name).slice(0, 80)})`);
  }
}

/** A worker name from any worker id: characters outside the alphabet become `_`. */
export function workerKeyName(workerId: string): string {
  const name = workerId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._-]+/, '').slice(0, 63);
  return name || 'worker';
}

/** `gw-2026-11-27-1a2b3c4d` or `wk-<name>-1a2b3c4d`. */
export function newKid(purpose: KeyPurpose, name?: string, now: Date = new Date()): string {
  const suffix = randomBytes(4).toString('hex');
  if (purpose === 'gateway') return `gw-${now.toISOString().slice(0, 10)}-${suffix}`;
  if (name === undefined) throw new TypeError('a worker key needs the worker name');
  assertWorkerName(name);
  return `wk-${name}-${suffix}`;
}

/** The worker name inside a worker kid. */
export function kidWorkerName(kid: string): string | undefined {
  return kidPurpose(kid) === 'worker' ? kid.slice(3, -9) : undefined;
}

export interface GeneratedKey {
  kid: string;
  purpose: KeyPurpose;
  /** Includes `d`: written only to the key file, never to the database or a log. */
  privateJwk: JWK;
  publicJwk: PublicJwk;
}

export async function generateSigningKey(purpose: KeyPurpose, name?: string, now?: Date): Promise<GeneratedKey> {
  const kid = newKid(purpose, name, now);
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
  const priv = await exportJWK(privateKey);
  const pub = await exportJWK(publicKey);
  if (!pub.x || !priv.d) throw new Error('jose exported an Ed25519 key without its key material');
  return {
    kid,
    purpose,
    privateJwk: { ...priv, kid, alg: SIGNING_ALG },
    publicJwk: publicJwkOf({ x: pub.x, kid }),
  };
}

export function publicJwkOf({ x, kid }: { x: string; kid: string }): PublicJwk {
  return { kty: 'OKP', crv: 'Ed25519', x, kid, alg: SIGNING_ALG, use: 'sig' };
}

export async function createJwsSigner(kid: string, privateJwk: JWK): Promise<JwsSigner> {
  const purpose = kidPurpose(kid);
  if (!purpose) throw new TypeError(`not a kid this service issues: ${kid}`);
  if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || !privateJwk.d) {
    throw new TypeError(`key ${kid} is not an Ed25519 private key`);
  }
  const key = (await importJWK(privateJwk, SIGNING_ALG)) as CryptoKey;
  return {
    kid,
    purpose,
    sign: (payload, typ) => new CompactSign(payload).setProtectedHeader({ alg: SIGNING_ALG, kid, typ }).sign(key),
  };
}

/** Signs the canonical JSON of `value`; the JWS payload is exactly those bytes. */
export function signCanonical(signer: JwsSigner, value: unknown, typ: string): Promise<string> {
  return signer.sign(canonicalBytes(value), typ);
}
