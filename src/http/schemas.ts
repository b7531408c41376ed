// Schemas shared by routes: the problem body, error responses, credits and pagination.
import { type TSchema, Type } from 'typebox';
import { ERROR_CATALOG } from '../errors/error-catalog.js';

const ERROR_CODES = Object.entries(ERROR_CATALOG) as Array<[string, { status: number; title: string }]>;

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri', description: 'A URI naming the error code' }),
    title: Type.String({ description: "The code's title (the same for every occurrence)" }),
    status: Type.Integer({ description: 'The HTTP status' }),
    detail: Type.String({ description: 'What went wrong with this request, for people' }),
    code: Type.Unsafe<string>({
      type: 'string',
      enum: ERROR_CODES.map(([code]) => code),
      'x-enum-descriptions': ERROR_CODES.map(([, e]) => `${e.status}: ${e.title}`),
      description: `Stable error code (README: errors): ${ERROR_CODES.map(([code, e]) => `\`${code}\` (${e.status}) ${e.title}`).join('; ')}`,
    }),
    retryable: Type.Boolean({ description: 'The same request may succeed later unchanged (after Retry-After when given)' }),
    requestId: Type.String({ description: 'Quote it when reporting a problem (also the X-Request-Id header)' }),
    field: Type.Optional(Type.String({ description: 'The request field the error is about, e.g. body.amount' })),
  },
  {
    $id: 'Problem',
    title: 'Problem',
    description: 'RFC 9457 problem details',
    examples: [
      {
        type: 'https://posthuman.dev/problems/insufficient-credit',
        title: 'Insufficient credit',
        status: 402,
        detail: 'the balance of 1000 micro-credits cannot cover the maximum cost of 1040',
        code: 'insufficient_credit',
        retryable: false,
        requestId: '0d4c2a9e-5b7f-4e61-9f3a-8c2d1e0b7a65',
      },
    ],
  },
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
/** The body of a POST that needs none: nothing, `null` or `{}` (anything else is a 400 naming it). */
export const NoBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()], { description: 'No body needed', examples: [{}] });

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
  { description: 'Micro-credits as an integer or a decimal string; never a float', examples: [5_000_000] },
);

export function toMicroCredits(value: number | string): bigint {
  return BigInt(value);
}

export const Uuid = Type.String({ format: 'uuid', examples: ['6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11'] });

/** `T | null` in a response schema. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'The id', examples: ['6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11'] }) });

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Items per page', examples: [20] })),
  cursor: Type.Optional(
    Type.String({ maxLength: 200, description: 'next_cursor of the previous page (omit for the first page)', examples: ['MjAyNi0xMS0yN1QxMDo1MTo0Mi4xMjM0NTZafDZmMWMyYjll'] }),
  ),
});

/** A page of `item`s; `title` names it in the OpenAPI document (e.g. JobPage). */
export function Page<T extends TSchema>(item: T, title?: string) {
  return Type.Object(
    {
      data: Type.Array(item),
      next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
    },
    title ? { title } : {},
  );
}

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Retries with the same key replay the first answer', examples: ['req-42'] }),
  ),
});
