// Who a request acts as: the operator, or an API key of an account. Services take these types;
// the auth plugin (src/plugins/auth.ts) is what sets them on a request.
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
    };

export type KeyPrincipal = Extract<Principal, { kind: 'key' }>;

/** `key-optional`: anonymous is allowed; a request that sends a key is authenticated as with `key`. */
export type AuthMode = 'none' | 'operator' | 'key' | 'key-optional';

/** The API-key principal of an authenticated request (routes with `auth: 'key'`). */
export function keyPrincipal(request: { principal: Principal | null }): KeyPrincipal {
  const p = request.principal;
  if (p?.kind !== 'key') throw new AppError('unauthorized', 'an API key is required');
  return p;
}
