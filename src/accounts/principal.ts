// Who a request acts as: the operator, an API key of an account, or a wallet session (Sign-In with
// Ethereum). Services take these types; the auth plugin (src/plugins/auth.ts) sets them on a request.
import type { Scope } from './scopes.js';
import { AppError } from '../errors/app-error.js';

export type Principal =
  | { kind: 'operator' }
  | {
      kind: 'key';
      accountId: string;
      keyId: string;
      scopes: Scope[];
      spendCap: bigint | null;
    }
  | {
      /** A wallet session token: the account's owner, signed in with its bound address. */
      kind: 'session';
      accountId: string;
      address: string;
    };

export type KeyPrincipal = Extract<Principal, { kind: 'key' }>;
export type SessionPrincipal = Extract<Principal, { kind: 'session' }>;

/** `key-optional`: anonymous is allowed; a request that sends a key is authenticated as with `key`. */
export type AuthMode = 'none' | 'operator' | 'key' | 'key-optional';

/** The API-key principal of an authenticated request (routes with `auth: 'key'`). */
export function keyPrincipal(request: { principal: Principal | null }): KeyPrincipal {
  const p = request.principal;
  if (p?.kind !== 'key') throw new AppError('unauthorized', 'an API key is required');
  return p;
}

/** The account a request acts for, by API key or wallet session (routes with `session: true`). */
export function accountPrincipal(request: { principal: Principal | null }): KeyPrincipal | SessionPrincipal {
  const p = request.principal;
  if (p?.kind !== 'key' && p?.kind !== 'session') throw new AppError('unauthorized', 'an API key or a wallet session token is required');
  return p;
}
