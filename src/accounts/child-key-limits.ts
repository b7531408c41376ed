// A key made by a key (POST /v1/account/keys) never outgrows its parent: its scopes are a subset of
// the parent's, and its spend cap and rate limit are at most the parent's (inherited when absent).
import { AppError } from '../errors/app-error.js';
import type { ApiKeyView } from './account-repository.js';
import type { Scope } from './scopes.js';

export interface ChildKeyRequest {
  scopes?: Scope[];
  rate_limit_per_minute?: number;
  spend_cap?: number;
}

export interface ChildKeyLimits {
  scopes: Scope[];
  rateLimitPerMinute?: number;
  spendCap?: bigint;
}

export function childKeyLimits(parent: Pick<ApiKeyView, 'scopes' | 'rateLimitPerMinute' | 'spendCap' | 'spent'>, body: ChildKeyRequest): ChildKeyLimits {
  const scopes = body.scopes ?? parent.scopes;
  const extra = scopes.filter((s) => !parent.scopes.includes(s));
  if (extra.length > 0) {
    throw new AppError('scope_exceeds_parent', `cannot grant scopes this key does not hold: ${extra.join(', ')}`, { field: 'body.scopes' });
  }

  let rateLimitPerMinute = body.rate_limit_per_minute;
  if (parent.rateLimitPerMinute !== null) {
    if (rateLimitPerMinute === undefined) rateLimitPerMinute = parent.rateLimitPerMinute;
    else if (rateLimitPerMinute > parent.rateLimitPerMinute) {
      throw new AppError(
        'key_limit_exceeds_parent',
        `rate_limit_per_minute ${rateLimitPerMinute} is above this key's own limit of ${parent.rateLimitPerMinute}`,
        { field: 'body.rate_limit_per_minute' },
      );
    }
  }

  // What the parent may still commit; a child cannot be handed more than that.
  let spendCap = body.spend_cap === undefined ? undefined : BigInt(body.spend_cap);
  if (parent.spendCap !== null) {
    const remaining = parent.spendCap - parent.spent;
    if (remaining < 1n) {
      throw new AppError('key_limit_exceeds_parent', "this key's spend cap is used up; it cannot create keys that spend", {
        field: 'body.spend_cap',
      });
    }
    if (spendCap === undefined) spendCap = remaining;
    else if (spendCap > remaining) {
      throw new AppError(
        'key_limit_exceeds_parent',
        `spend_cap ${spendCap} is above what this key may still spend (${remaining} of its cap ${parent.spendCap})`,
        { field: 'body.spend_cap' },
      );
    }
  }
  return { scopes, rateLimitPerMinute, spendCap };
}
