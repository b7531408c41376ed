// Sign-In with Ethereum (EIP-4361) with the `siwe` package: single-use nonces kept in Postgres, and a
// signed message checked for this gateway's domain and origin, its chain, its validity window and its
// signature (an EOA's, or an EIP-1271 contract wallet's when the chain answers isValidSignature).
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { JsonRpcProvider } from 'ethers';
import { generateNonce, SiweMessage } from 'siwe';
import type { DbOrTx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { siweNonces } from './wallet-schema.js';

/** How far a message's issuedAt may be ahead of our clock (wallet clocks drift). */
const CLOCK_SKEW_MS = 60_000;

export const SIWE_STATEMENT = 'Sign in to Posthuman Gateway. This signature costs nothing and moves no funds.';

export interface SiweSettings {
  /** `host[:port]` the message must name. */
  domain: string;
  /** The gateway's origin (`http://host:port`): the message's URI must be on it. */
  origin: string;
  chainId: number;
  nonceTtlSeconds: number;
}

export interface CheckedSignIn {
  address: string;
  nonce: string;
  expirationTime: Date | undefined;
}

const refuse = (detail: string) => new AppError('unauthorized', detail, { field: 'body.message' });

export function createSiweService(settings: SiweSettings, deps: { provider: JsonRpcProvider | null }) {
  return {
    settings,

    /** Issues a nonce; with an address, also the exact message to sign (the client may build its own). */
    async issueNonce(db: DbOrTx, address?: string) {
      const nonce = generateNonce();
      const now = new Date();
      const expiresAt = new Date(now.getTime() + settings.nonceTtlSeconds * 1000);
      // Expired nonces are of no use to anyone: prune a few on the way, so the table stays small.
      await db.delete(siweNonces).where(lt(siweNonces.expiresAt, new Date(now.getTime() - 3600_000)));
      await db.insert(siweNonces).values({ nonce, expiresAt });
      const message = address
        ? new SiweMessage({
            domain: settings.domain,
            address,
            statement: SIWE_STATEMENT,
            uri: settings.origin,
            version: '1',
            chainId: settings.chainId,
            nonce,
            issuedAt: now.toISOString(),
            expirationTime: expiresAt.toISOString(),
          }).prepareMessage()
        : undefined;
      return { nonce, expiresAt, message };
    },

    /**
     * Checks everything about a signed message except the nonce's freshness, which `consumeNonce`
     * decides inside the sign-in transaction. Every refusal is a 401 naming the reason.
     */
    async check(message: string, signature: string, now = new Date()): Promise<CheckedSignIn> {
      let parsed: SiweMessage;
      try {
        parsed = new SiweMessage(message);
      } catch {
        throw new AppError('validation_failed', 'body.message is not an EIP-4361 (Sign-In with Ethereum) message', { field: 'body.message' });
      }
      if (parsed.domain !== settings.domain) {
        throw refuse(`the message is for domain "${parsed.domain}", not this gateway's "${settings.domain}"`);
      }
      if (!sameOrigin(parsed.uri, settings.origin)) {
        throw refuse(`the message's URI ${parsed.uri} is not on this gateway's origin ${settings.origin}`);
      }
      if (parsed.chainId !== settings.chainId) {
        throw refuse(`the message is for chain ${parsed.chainId}; this gateway signs in on chain ${settings.chainId}`);
      }
      if (parsed.issuedAt && new Date(parsed.issuedAt).getTime() > now.getTime() + CLOCK_SKEW_MS) {
        throw refuse('the message was issued in the future');
      }
      if (parsed.expirationTime && new Date(parsed.expirationTime).getTime() <= now.getTime()) {
        throw refuse('the message has expired: ask for a new nonce and sign again');
      }
      if (parsed.notBefore && new Date(parsed.notBefore).getTime() > now.getTime()) {
        throw refuse('the message is not valid yet (notBefore)');
      }
      const result = await parsed.verify(
        { signature, domain: settings.domain, nonce: parsed.nonce, time: now.toISOString() },
        // ethers 6's provider; siwe's types still name ethers 5's.
        { suppressExceptions: true, ...(deps.provider ? { provider: deps.provider as never } : {}) },
      );
      if (!result.success) throw refuse('the signature does not match the message\'s address (nor does the address\'s contract accept it, EIP-1271)');
      return {
        address: parsed.address,
        nonce: parsed.nonce,
        expirationTime: parsed.expirationTime ? new Date(parsed.expirationTime) : undefined,
      };
    },

    /** Marks the nonce used; a nonce unknown, used before or expired is a 401 (a replayed message). */
    async consumeNonce(db: DbOrTx, nonce: string, now = new Date()): Promise<void> {
      const [row] = await db
        .update(siweNonces)
        .set({ usedAt: now })
        .where(and(eq(siweNonces.nonce, nonce), isNull(siweNonces.usedAt), gt(siweNonces.expiresAt, now)))
        .returning({ nonce: siweNonces.nonce });
      if (!row) throw refuse('the nonce is unknown, already used or expired: ask for a new nonce and sign again');
    },
  };
}

export type SiweService = ReturnType<typeof createSiweService>;

function sameOrigin(uri: string, origin: string): boolean {
  try {
    return new URL(uri).origin === new URL(origin).origin;
  } catch {
    return false;
  }
}
