// Request bodies of the job routes, as validated and stored on the job row.
import { type Static, Type } from 'typebox';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 of the model weights to pin' });
const ModelId = Type.String({ minLength: 1, maxLength: 64, description: 'Model id from GET /v1/models' });

/**
 * The most characters of text one job takes (infer's input; evaluate's texts together). Tokens are
 * counted on the request path, so this bounds that work: 200,000 characters count in well under 0.1 s.
 */
export const MAX_TEXT_CHARS = 200_000;

export const InferParameters = Type.Object(
  {
    max_new_tokens: Type.Integer({ minimum: 1, maximum: 4096, default: 32 }),
    temperature: Type.Number({ minimum: 0, maximum: 5, default: 0, description: '0 = greedy decoding' }),
    top_k: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: '0 = no cut' })),
    top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    seed: Type.Integer({ minimum: 0, maximum: 4_294_967_295, default: 0, description: 'Sampling seed: same seed, same output' }),
    stop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 16 })),
  },
  { additionalProperties: false },
);

export const InferBody = Type.Object(
  {
    model: ModelId,
    model_sha256: Type.Optional(Sha256),
    input: Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS }),
    parameters: Type.Optional(InferParameters),
    stream: Type.Optional(Type.Boolean({ description: 'Answer as Server-Sent Events, one event per token' })),
  },
  { additionalProperties: false },
);

export const EvaluateBody = Type.Object(
  {
    model: ModelId,
    model_sha256: Type.Optional(Sha256),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS })),
    texts: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS }), {
        minItems: 1,
        maxItems: 256,
        description: `At most ${MAX_TEXT_CHARS} characters in all`,
      }),
    ),
  },
  { additionalProperties: false, description: 'Send `text` or `texts`' },
);

export type InferBody = Static<typeof InferBody>;
export type EvaluateBody = Static<typeof EvaluateBody>;

/** What is stored in jobs.request. */
export interface InferRequest {
  input: string;
  parameters: {
    max_new_tokens: number;
    temperature: number;
    top_k?: number;
    top_p?: number;
    seed: number;
    stop?: string[];
  };
}

export interface EvaluateRequest {
  texts: string[];
}
