// Request and response schemas of the OpenAI-compatible routes: the fields the official SDKs send
// and read, plus a `posthuman` block (job, cost, receipt) that OpenAI clients pass through untouched.
import { type Static, Type } from 'typebox';
import { MAX_TEXT_CHARS } from '../jobs/job-requests.js';

const StopSchema = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 64 }),
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 4 }),
    Type.Null(),
  ],
  { description: 'Up to 4 sequences where generation stops (not included in the text)', examples: [['\n\n']] },
);

/** Sampling fields both endpoints take, with OpenAI's meaning and defaults. */
const SamplingFields = {
  model: Type.String({ minLength: 1, maxLength: 64, description: 'A model id from GET /openai/v1/models', examples: ['tiny-gpt2'] }),
  temperature: Type.Optional(
    Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()], {
      description: 'Sampling temperature, 0–2 (default 1); 0 is greedy decoding',
      examples: [0.7],
    }),
  ),
  top_p: Type.Optional(
    Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1 }), Type.Null()], { description: 'Nucleus sampling mass (default 1)', examples: [0.95] }),
  ),
  seed: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0, maximum: 4_294_967_295 }), Type.Null()], {
      description: 'Sampling seed (default 0): the same seed, prompt and parameters give the same text',
      examples: [7],
    }),
  ),
  stop: Type.Optional(StopSchema),
  n: Type.Optional(Type.Union([Type.Literal(1), Type.Null()], { description: 'Only 1 choice per request is supported', examples: [1] })),
  stream: Type.Optional(
    Type.Union([Type.Boolean(), Type.Null()], { description: 'Answer as Server-Sent Events chunks ending with `data: [DONE]`', examples: [true] }),
  ),
  stream_options: Type.Optional(
    Type.Union(
      [
        Type.Object(
          { include_usage: Type.Optional(Type.Boolean({ description: 'Send one last chunk with `usage` (and no choices) before [DONE]' })) },
          { additionalProperties: true },
        ),
        Type.Null(),
      ],
      { description: 'Streaming options', examples: [{ include_usage: true }] },
    ),
  ),
  user: Type.Optional(Type.String({ maxLength: 256, description: 'Accepted and ignored', examples: ['user-1234'] })),
  presence_penalty: Type.Optional(Type.Union([Type.Literal(0), Type.Null()], { description: 'Only 0 is supported', examples: [0] })),
  frequency_penalty: Type.Optional(Type.Union([Type.Literal(0), Type.Null()], { description: 'Only 0 is supported', examples: [0] })),
  logprobs: Type.Optional(Type.Union([Type.Literal(false), Type.Null()], { description: 'Log probabilities are not returned', examples: [false] })),
};

export const CompletionRequest = Type.Object(
  {
    ...SamplingFields,
    prompt: Type.Union([Type.String({ maxLength: MAX_TEXT_CHARS }), Type.Array(Type.String({ maxLength: MAX_TEXT_CHARS }), { minItems: 1, maxItems: 1 })], {
      description: 'The text to continue (one string, or an array holding one)',
      examples: ['The quick brown fox'],
    }),
    max_tokens: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 4096 }), Type.Null()], { description: 'Tokens to generate at most (default 16)', examples: [16] }),
    ),
    echo: Type.Optional(Type.Union([Type.Literal(false), Type.Null()], { description: 'Echoing the prompt is not supported', examples: [false] })),
    best_of: Type.Optional(Type.Union([Type.Literal(1), Type.Null()], { description: 'Only 1 is supported', examples: [1] })),
  },
  {
    title: 'OpenAICompletionRequest',
    additionalProperties: true,
    description: 'OpenAI `POST /v1/completions` body. Fields this gateway does not know are ignored; known ones it cannot honour are refused.',
    examples: [{ model: 'tiny-gpt2', prompt: 'The quick brown fox', max_tokens: 16, temperature: 0 }],
  },
);
export type CompletionRequest = Static<typeof CompletionRequest>;

const ContentPart = Type.Object(
  { type: Type.String({ description: 'Only `text` parts are supported' }), text: Type.Optional(Type.String({ maxLength: MAX_TEXT_CHARS })) },
  { additionalProperties: true },
);

const ChatMessageSchema = Type.Object(
  {
    role: Type.String({ description: 'system, developer, user or assistant', examples: ['user'] }),
    content: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_TEXT_CHARS }), Type.Array(ContentPart, { maxItems: 64 }), Type.Null()], {
        description: 'Text, or text content parts',
        examples: ['Say hello'],
      }),
    ),
    name: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);

export const ChatCompletionRequest = Type.Object(
  {
    ...SamplingFields,
    messages: Type.Array(ChatMessageSchema, {
      minItems: 1,
      maxItems: 256,
      description: 'The conversation; rendered with the chat template of the README (System:/User:/Assistant: lines)',
      examples: [[{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello' }]],
    }),
    max_tokens: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 4096 }), Type.Null()], {
        description: 'Tokens to generate at most (default: what fits in the context, up to 4096)',
        examples: [32],
      }),
    ),
    max_completion_tokens: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 4096 }), Type.Null()], { description: 'Same as max_tokens (wins when both are sent)', examples: [32] }),
    ),
    tools: Type.Optional(Type.Union([Type.Array(Type.Unknown(), { maxItems: 0 }), Type.Null()], { description: 'Tool calling is not supported', examples: [[]] })),
    response_format: Type.Optional(
      Type.Union([Type.Object({ type: Type.Literal('text') }, { additionalProperties: true }), Type.Null()], {
        description: 'Only `text` is supported',
        examples: [{ type: 'text' }],
      }),
    ),
  },
  {
    title: 'OpenAIChatCompletionRequest',
    additionalProperties: true,
    description: 'OpenAI `POST /v1/chat/completions` body. Fields this gateway does not know are ignored; known ones it cannot honour are refused.',
    examples: [{ model: 'tiny-gpt2', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 16, temperature: 0 }],
  },
);
export type ChatCompletionRequest = Static<typeof ChatCompletionRequest>;

const Usage = Type.Object(
  {
    prompt_tokens: Type.Integer({ description: 'Tokens of the prompt (for chat: of the rendered template)' }),
    completion_tokens: Type.Integer({ description: 'Tokens generated' }),
    total_tokens: Type.Integer(),
  },
  { title: 'OpenAIUsage', description: 'Tokens billed: the cost is per_job + per_1k_tokens × total_tokens / 1000' },
);

export const PosthumanExtension = Type.Object(
  {
    job_id: Type.String({ format: 'uuid', description: 'The native job (GET /v1/jobs/{id})' }),
    weights_sha256: Type.String({ description: 'SHA-256 of the weights that ran' }),
    cost: Type.Union([Type.Integer(), Type.Null()], { description: 'Micro-credits charged' }),
    receipt: Type.Union(
      [
        Type.Object({
          id: Type.String({ format: 'uuid' }),
          log_index: Type.Integer(),
          jws: Type.String({ description: 'The signed job-proof receipt (compact JWS); verify it with `npx posthuman verify`' }),
        }),
        Type.Null(),
      ],
      { description: 'Also in the X-Receipt-Id and X-Receipt-JWS headers' },
    ),
  },
  { title: 'OpenAIPosthumanExtension', description: 'Gateway extension: the job, its cost and its signed receipt. OpenAI clients ignore it.' },
);

const Common = {
  id: Type.String({ description: '`cmpl-` or `chatcmpl-` followed by the job id' }),
  created: Type.Integer({ description: 'Unix seconds' }),
  model: Type.String(),
  system_fingerprint: Type.String({ description: '`fp_` + the first 12 hex digits of the weights sha256' }),
};

const FinishReason = Type.Union([Type.Literal('stop'), Type.Literal('length'), Type.Null()], {
  description: 'stop: a stop sequence, end of text, or the job was cancelled; length: max_tokens reached',
});

export const Completion = Type.Object(
  {
    ...Common,
    object: Type.Literal('text_completion'),
    choices: Type.Array(
      Type.Object({ text: Type.String(), index: Type.Integer(), logprobs: Type.Null(), finish_reason: FinishReason }),
    ),
    usage: Type.Optional(Type.Union([Usage, Type.Null()])),
    posthuman: Type.Optional(PosthumanExtension),
  },
  { title: 'OpenAICompletion', description: 'A completion, or with `stream: true` one chunk of one (the same shape)' },
);

export const ChatCompletion = Type.Object(
  {
    ...Common,
    object: Type.Literal('chat.completion'),
    choices: Type.Array(
      Type.Object({
        index: Type.Integer(),
        message: Type.Object({ role: Type.Literal('assistant'), content: Type.String(), refusal: Type.Null() }),
        logprobs: Type.Null(),
        finish_reason: FinishReason,
      }),
    ),
    usage: Usage,
    posthuman: PosthumanExtension,
  },
  { title: 'OpenAIChatCompletion' },
);

export const OpenAIModel = Type.Object(
  {
    id: Type.String({ examples: ['tiny-gpt2'] }),
    object: Type.Literal('model'),
    created: Type.Integer({ description: 'Unix seconds' }),
    owned_by: Type.String({ description: '`posthuman` (the marketplace), `you`, or `provider` (another account)' }),
  },
  { title: 'OpenAIModel', examples: [{ id: 'tiny-gpt2', object: 'model', created: 1764671000, owned_by: 'posthuman' }] },
);

export const OpenAIModelList = Type.Object(
  { object: Type.Literal('list'), data: Type.Array(OpenAIModel) },
  { title: 'OpenAIModelList', description: 'Models that generate text' },
);

export const OpenAIErrorBody = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String({ description: 'invalid_request_error, authentication_error, permission_error, insufficient_quota, not_found_error, rate_limit_error, timeout or server_error' }),
      param: Type.Union([Type.String(), Type.Null()], { description: 'The request field at fault, e.g. max_tokens' }),
      code: Type.Union([Type.String(), Type.Null()], { description: 'The gateway error code (README: errors) or the job failure code' }),
    }),
  },
  { title: 'OpenAIError', description: "OpenAI's error shape" },
);
