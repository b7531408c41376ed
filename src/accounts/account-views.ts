// Response schemas and mappers for accounts and API keys (never the key hash).
import { Type } from 'typebox';
import { MicroCreditsOut, Uuid } from '../http/schemas.js';
import type { ApiKeyView } from './account-repository.js';
import { SCOPES, type Scope } from './scopes.js';

export const ScopeSchema = Type.Unsafe<Scope>({
  type: 'string',
  enum: [...SCOPES],
  title: 'Scope',
  description: 'What a key may do: infer, evaluate, finetune (run those jobs), publish (upload models), keys (manage keys)',
});

export const AccountSchema = Type.Object(
  {
  id: Uuid,
  name: Type.String(),
  balance: Type.Unsafe<bigint | number>({ type: 'integer', minimum: 0, description: 'Micro-credits available to spend' }),
  held: Type.Unsafe<bigint | number>({ type: 'integer', minimum: 0, description: 'Micro-credits held for unfinished jobs' }),
  earnings: Type.Unsafe<bigint | number>({
    type: 'integer',
    minimum: 0,
    description: "Micro-credits earned as a model owner (75% of each job's price on the account's models)",
  }),
  created_at: Type.String({ format: 'date-time' }),
  },
  {
    title: 'Account',
    description: 'An account and its balances',
    examples: [{ id: '3c9a7e21-0b5d-4f8e-a6c4-1d2e3f4a5b6c', name: 'Acme', balance: 4998960, held: 0, earnings: 0, created_at: '2026-11-27T10:51:42.123Z' }],
  },
);

export const ApiKeySchema = Type.Object(
  {
  id: Uuid,
  name: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String({ description: 'Public part of the key; safe to log' }),
  scopes: Type.Array(ScopeSchema),
  rate_limit_per_minute: Type.Union([Type.Integer(), Type.Null()]),
  spend_cap: Type.Union([MicroCreditsOut, Type.Null()]),
  spent: MicroCreditsOut,
  created_at: Type.String({ format: 'date-time' }),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  {
    title: 'ApiKey',
    description: 'An API key (never its secret)',
    examples: [
      {
        id: '8b1d4e6f-2a3c-4d5e-9f01-23456789abcd',
        name: 'prod',
        prefix: 'ph_3kq9x2',
        scopes: ['infer', 'evaluate'],
        rate_limit_per_minute: 600,
        spend_cap: 2000000,
        spent: 1040,
        created_at: '2026-11-27T10:51:42.123Z',
        revoked_at: null,
      },
    ],
  },
);

export const NewApiKeySchema = Type.Object(
  {
    ...ApiKeySchema.properties,
    key: Type.String({ description: 'The secret key; shown once, store it now' }),
  },
  {
    title: 'NewApiKey',
    description: 'A key just created: the only time its secret is shown',
    examples: [
      {
        id: '8b1d4e6f-2a3c-4d5e-9f01-23456789abcd',
        name: 'prod',
        prefix: 'ph_3kq9x2',
        scopes: ['infer', 'evaluate'],
        rate_limit_per_minute: 600,
        spend_cap: 2000000,
        spent: 0,
        created_at: '2026-11-27T10:51:42.123Z',
        revoked_at: null,
        key: 'ph_3kq9x2_Jq0r…',
      },
    ],
  },
);

export const CreateKeyBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A label for people', examples: ['prod'] })),
    scopes: Type.Optional(
      Type.Array(ScopeSchema, {
        minItems: 1,
        uniqueItems: true,
        description: 'What the key may do (default: the issuer\'s scopes, or infer, evaluate, finetune and keys for an operator)',
        examples: [['infer', 'evaluate']],
      }),
    ),
    rate_limit_per_minute: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Requests per minute (default: unlimited, or the issuer\'s)', examples: [600] }),
    ),
    spend_cap: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Micro-credits this key may commit', examples: [2_000_000] }),
    ),
  },
  {
    additionalProperties: false,
    title: 'CreateKeyRequest',
    examples: [{ name: 'prod', scopes: ['infer', 'evaluate'], rate_limit_per_minute: 600, spend_cap: 2_000_000 }],
  },
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
