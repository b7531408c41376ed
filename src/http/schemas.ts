// Schemas shared by routes: the problem body, error responses, credits and pagination.
import { type TSchema, Type } from 'typebox';
import { ERROR_CATALOG } from '../errors/error-catalog.js';

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Unsafe<string>({ type: 'string', enum: Object.keys(ERROR_CATALOG), description: 'Stable error code (README: errors)' }),
    retryable: Type.Boolean({ description: 'The same request may succeed later unchanged (after Retry-After when given)' }),
    requestId: Type.String(),
    field: Type.Optional(Type.String({ description: 'The request field the error is about, e.g. body.amount' })),
  },
  { $id: 'Problem', title: 'Problem', description: 'RFC 9457 problem details' },
);

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (the `field` names what is wrong)',
  401: 'Missing, malformed, revoked or unknown credentials',
  402: 'Not enough credit, or over the API key spend cap',
  403: 'The API key lacks the scope this operation needs',
  404: 'No such resource for this account',
  409: 'Conflicts with the current state',
  413: 'Body larger than the configured limit',
  415: 'Unsupported content type',
  422: 'Idempotency-Key reused with a different request',
  429: 'Rate limit exceeded; see Retry-After',
  500: 'Unexpected server error (details are logged, not sent)',
  503: 'A dependency is unavailable or the service is overloaded; see Retry-After',
};

export type ErrorStatus = keyof typeof STATUS_TEXT & number;

/**
 * The error part of a route's response map; every route spreads it. 400, 500 and 503 are always
 * there: any request can be malformed, and any can meet a database, queue or chain outage (503
 * with Retry-After).
 */
export function errorResponses(statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const status of new Set([...statuses, 400, 500, 503])) {
    out[status] = {
      description: STATUS_TEXT[status] ?? 'Error',
      content: { 'application/problem+json': { schema: Type.Ref('Problem') } },
    };
  }
  return out;
}

/** Error statuses every authenticated route can answer with. */
export const KEY_AUTH_ERRORS = [401, 403, 429];
export const OPERATOR_AUTH_ERRORS = [401];
/** Statuses the body parser answers with on any route that takes a body. */
export const BODY_ERRORS = [413, 415];

/** Micro-credits: integers in JSON (never floats); inputs may also be decimal strings. */
export const MicroCreditsOut = Type.Unsafe<bigint | number>({
  type: 'integer',
  minimum: 0,
  description: 'Micro-credits (1 credit = 1,000,000)',
});
/** A signed amount of micro-credits (ledger entries). */
export const SignedMicroCredits = Type.Unsafe<bigint | number>({ type: 'integer', description: 'Signed micro-credits' });
export const MicroCreditsIn = Type.Union(
  [
    Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'decimal string for values above 2^53' }),
  ],
  { description: 'Micro-credits as an integer or a decimal string; never a float' },
);

export function toMicroCredits(value: number | string): bigint {
  return BigInt(value);
}

export const Uuid = Type.String({ format: 'uuid' });

/** `T | null` in a response schema. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const IdParams = Type.Object({ id: Uuid });

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
});

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
  });
}

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Retries with the same key replay the first answer' }),
  ),
});
