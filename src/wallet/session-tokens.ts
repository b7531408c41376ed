// Wallet session tokens: short-lived JWTs (HS256, jose) naming the account and the address that signed
// in. The secret is per deployment: WALLET_SESSION_SECRET, or generated once into the data dir.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { SessionPrincipal } from '../accounts/principal.js';
import { AppError } from '../errors/app-error.js';

const ISSUER = 'posthuman-gateway';
const AUDIENCE = 'posthuman:wallet-session';
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The session secret: the configured one, or one generated into `<dataDir>/wallet-session-secret` (0600). */
export function resolveSessionSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const path = join(dataDir, 'wallet-session-secret');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    // 'wx': another replica on the same data dir may have written it first; then use theirs.
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim();
    throw err;
  }
}

export interface SessionTokens {
  /** A token for the account; it expires after the TTL, or at `notAfter` if that is sooner. */
  issue(input: { accountId: string; address: string; notAfter?: Date }): Promise<{ token: string; expiresAt: Date }>;
  /** Whether a bearer value has the shape of a session token (an API key never does). */
  isSessionToken(token: string): boolean;
  /** The principal a valid token names; 401 for anything else. */
  verify(token: string): Promise<SessionPrincipal>;
}

export function createSessionTokens(options: { secret: string; ttlSeconds: number }): SessionTokens {
  const key = new TextEncoder().encode(options.secret);
  return {
    async issue({ accountId, address, notAfter }) {
      const nowS = Math.floor(Date.now() / 1000);
      let exp = nowS + options.ttlSeconds;
      if (notAfter) exp = Math.min(exp, Math.floor(notAfter.getTime() / 1000));
      const token = await new SignJWT({ addr: address })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(accountId)
        .setJti(randomUUID())
        .setIssuedAt(nowS)
        .setExpirationTime(exp)
        .sign(key);
      return { token, expiresAt: new Date(exp * 1000) };
    },
    isSessionToken: (token) => JWT_SHAPE.test(token),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string' || typeof payload.addr !== 'string') throw new Error('claims missing');
        return { kind: 'session', accountId: payload.sub, address: payload.addr };
      } catch (err) {
        const expired = err instanceof joseErrors.JWTExpired;
        throw new AppError('unauthorized', expired ? 'the wallet session has expired: sign in again' : 'invalid wallet session token');
      }
    },
  };
}
