// Request bodies of the job routes, as validated and stored on the job row.
import { type Static, Type } from 'typebox';

const Sha256 = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: 'Hex SHA-256 of the model weights to pin: a model served with other weights is a 409, never a substitute',
  examples: ['1280b5d7161a7aa77b2b31e8496b0fff32f6765f1183dc3dc373fa34f421d21a'],
});
const ModelId = Type.String({ minLength: 1, maxLength: 64, description: 'Model id from GET /v1/models', examples: ['tiny-gpt2'] });

/**
 * The most characters of text one job takes (infer's input; evaluate's texts together). Tokens are
 * counted on the request path, so this bounds that work: 200,000 characters count in well under 0.1 s.
 */
export const MAX_TEXT_CHARS = 200_000;

export const InferParameters = Type.Object(
  {
    max_new_tokens: Type.Integer({ minimum: 1, maximum: 4096, default: 32, description: 'Tokens to generate at most (the hold covers them all)', examples: [16] }),
    temperature: Type.Number({ minimum: 0, maximum: 5, default: 0, description: '0 = greedy decoding', examples: [0.8] }),
    top_k: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'Sample from the k most likely tokens; 0 = no cut', examples: [40] })),
    top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Nucleus sampling: the smallest set of tokens holding this mass', examples: [0.95] })),
    seed: Type.Integer({ minimum: 0, maximum: 4_294_967_295, default: 0, description: 'Sampling seed: same seed, same output', examples: [7] }),
    stop: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 16,
        description: 'Generation stops before the first of these (not included in the output)',
        examples: [['\n']],
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'InferParameters',
    description: 'Decoding parameters; every one has a default',
    examples: [{ max_new_tokens: 16, temperature: 0.8, top_k: 40, seed: 7, stop: ['\n'] }],
  },
);

export const InferBody = Type.Object(
  {
    model: ModelId,
    model_sha256: Type.Optional(Sha256),
    input: Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS, description: 'The text to continue', examples: ['The quick brown fox'] }),
    parameters: Type.Optional(InferParameters),
    stream: Type.Optional(Type.Boolean({ description: 'Answer as Server-Sent Events, one event per token' })),
  },
  {
    additionalProperties: false,
    title: 'InferRequest',
    examples: [{ model: 'tiny-gpt2', input: 'The quick brown fox', parameters: { max_new_tokens: 16, temperature: 0.8, top_k: 40, seed: 7 } }],
  },
);

export const EvaluateBody = Type.Object(
  {
    model: ModelId,
    model_sha256: Type.Optional(Sha256),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS, description: 'One text to score', examples: ['Hello world'] })),
    texts: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_TEXT_CHARS }), {
        minItems: 1,
        maxItems: 256,
        description: `Several texts, scored each and together (at most ${MAX_TEXT_CHARS} characters in all)`,
        examples: [['Hello world', 'A second, longer text to score']],
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'EvaluateRequest',
    description: 'Send `text` or `texts`',
    examples: [{ model: 'tiny-gpt2', texts: ['Hello world', 'A second, longer text to score'] }],
  },
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
  {
    additionalProperties: false,
    title: 'FinetuneHyperparameters',
    description: 'Training settings; every one has a default',
    examples: [{ steps: 4, batch_size: 2, learning_rate: 0.001, seed: 1 }],
  },
);

export const FinetuneBody = Type.Object(
  {
    model: ModelId,
    model_sha256: Type.Optional(Sha256),
    name: Type.String({
      pattern: '^[a-z0-9][a-z0-9._-]{0,63}$',
      description: 'The id of the new model (a slug); taken once, never replaced',
      examples: ['support-desk'],
    }),
    datasets: Type.Array(DatasetRef, {
      minItems: 1,
      maxItems: 16,
      description: `Dataset ids and/or inline texts (at most ${MAX_TEXT_CHARS} inline characters in all); several owners may be combined`,
      examples: [[{ id: '5d6e7f80-9a1b-4c2d-8e3f-405162738495' }, { text: 'Our support desk opens at nine.' }]],
    }),
    hyperparameters: Type.Optional(FinetuneHyperparameters),
    pricing: Type.Optional(
      Type.Object(
        {
          per_job: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Micro-credits per job on the new model' }),
          per_1k_tokens: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Micro-credits per 1,000 tokens' }),
        },
        {
          additionalProperties: false,
          description: "The new model's prices (default: the parent's)",
          examples: [{ per_job: 1000, per_1k_tokens: 2000 }],
        },
      ),
    ),
    royalty_bps: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2000,
        default: 0,
        description: "Share (basis points) of the owners' part of every model later derived from the new one, paid to you",
        examples: [500],
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'FinetuneRequest',
    examples: [
      {
        model: 'tiny-gpt2',
        name: 'support-desk',
        datasets: [{ text: 'Our support desk opens at nine in the morning and closes at five.' }],
        hyperparameters: { steps: 4, batch_size: 2, learning_rate: 0.001, seed: 1 },
        royalty_bps: 500,
      },
    ],
  },
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
