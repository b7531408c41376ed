// Response schemas and mappers for accounts and API keys (never the key hash).
import { Type } from 'typebox';
import { MicroCreditsOut, Uuid } from '../http/schemas.js';
import type { ApiKeyView } from './account-repository.js';
import { SCOPES, type Scope } from './scopes.js';

export const ScopeSchema = Type.Unsafe<Scope>({ type: 'string', enum: [...SCOPES] });

export const AccountSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  balance: MicroCreditsOut,
  held: MicroCreditsOut,
  earnings: Type.Unsafe<bigint | number>({
    type: 'integer',
    minimum: 0,
    description: "Micro-credits earned as a model owner (75% of each job's price on the account's models)",
  }),
  created_at: Type.String({ format: 'date-time' }),
});

export const ApiKeySchema = Type.Object({
  id: Uuid,
  name: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String({ description: 'Public part of the key; safe to log' }),
  scopes: Type.Array(ScopeSchema),
  rate_limit_per_minute: Type.Union([Type.Integer(), Type.Null()]),
  spend_cap: Type.Union([MicroCreditsOut, Type.Null()]),
  spent: MicroCreditsOut,
  created_at: Type.String({ format: 'date-time' }),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const NewApiKeySchema = Type.Object({
  ...ApiKeySchema.properties,
  key: Type.String({ description: 'The secret key; shown once, store it now' }),
});

export const CreateKeyBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    scopes: Type.Optional(Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true })),
    rate_limit_per_minute: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    spend_cap: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Micro-credits this key may commit' }),
    ),
  },
  { additionalProperties: false },
);

export function apiKeyView(k: ApiKeyView) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    rate_limit_per_minute: k.rateLimitPerMinute,
    // Nullable unions are matched by value before serialising, which a bigint fails; caps are ≤ 2^53 by input.
    spend_cap: k.spendCap === null ? null : Number(k.spendCap),
    spent: k.spent,
    created_at: k.createdAt.toISOString(),
    revoked_at: k.revokedAt ? k.revokedAt.toISOString() : null,
  };
}
