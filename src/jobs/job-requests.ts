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
  /** Submitted as a stream: the worker sends every token (otherwise only while someone follows the job). */
  stream?: true;
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

/** Training steps one fine-tune may ask for, and rows per step: bounds the hold and the work. */
export const MAX_FINETUNE_STEPS = 2000;
export const MAX_FINETUNE_BATCH = 16;

const DatasetRef = Type.Union([
  Type.Object({ id: Type.String({ format: 'uuid', description: 'A dataset from GET /v1/datasets (yours, or listed)' }) }, { additionalProperties: false }),
  Type.Object(
    { text: Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS, description: 'Training text sent inline (used for this job only)' }) },
    { additionalProperties: false },
  ),
]);

export const FinetuneHyperparameters = Type.Object(
  {
    steps: Type.Integer({ minimum: 1, maximum: MAX_FINETUNE_STEPS, default: 20, description: 'Optimizer steps (the hold covers all of them)' }),
    batch_size: Type.Integer({ minimum: 1, maximum: MAX_FINETUNE_BATCH, default: 4, description: 'Sequences of the context length per step' }),
    learning_rate: Type.Number({ exclusiveMinimum: 0, maximum: 0.1, default: 0.001, description: 'AdamW learning rate' }),
    seed: Type.Integer({ minimum: 0, maximum: 4_294_967_295, default: 0, description: 'Same seed, data and parent: the same new weights' }),
    eval_fraction: Type.Number({ minimum: 0, maximum: 0.5, default: 0.1, description: 'Share of the data held out to score before and after' }),
  },
  { additionalProperties: false },
);

export const FinetuneBody = Type.Object(
  {
    model: ModelId,
    model_sha256: Type.Optional(Sha256),
    name: Type.String({
      pattern: '^[a-z0-9][a-z0-9._-]{0,63}$',
      description: 'The id of the new model (a slug); taken once, never replaced',
    }),
    datasets: Type.Array(DatasetRef, {
      minItems: 1,
      maxItems: 16,
      description: `Dataset ids and/or inline texts (at most ${MAX_TEXT_CHARS} inline characters in all); several owners may be combined`,
    }),
    hyperparameters: Type.Optional(FinetuneHyperparameters),
    pricing: Type.Optional(
      Type.Object(
        {
          per_job: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Micro-credits per job on the new model' }),
          per_1k_tokens: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Micro-credits per 1,000 tokens' }),
        },
        { additionalProperties: false, description: "The new model's prices (default: the parent's)" },
      ),
    ),
    royalty_bps: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2000,
        default: 0,
        description: "Share (basis points) of the owners' part of every model later derived from the new one, paid to you",
      }),
    ),
  },
  { additionalProperties: false },
);
export type FinetuneBody = Static<typeof FinetuneBody>;

/** One training source as stored on the job: a dataset (priced, owned) or an inline text. */
export interface FinetuneDataset {
  /** Dataset id; null for inline text. */
  id: string | null;
  sha256: string;
  format: 'text' | 'jsonl';
  /** The dataset's owner, paid `price` when the job trains (null for inline text). */
  owner_account_id: string | null;
  /** Micro-credits, decimal string (bigint). */
  price: string;
  /** Inline text only. Never returned by any route. */
  text?: string;
}

export interface FinetuneRequest {
  name: string;
  hyperparameters: { steps: number; batch_size: number; learning_rate: number; seed: number; eval_fraction: number };
  datasets: FinetuneDataset[];
  new_model: { price_per_job: string; price_per_1k_tokens: string; royalty_bps: number };
}
