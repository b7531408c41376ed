// OpenAI-compatible routes under /openai/v1: models, completions and chat completions, so the
// official SDKs (and LiteLLM, OpenRouter-style proxies) work by changing the base URL and the key.
// Each request is a native infer job: the same keys, holds, orders, settlement and receipts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { keyPrincipal } from '../accounts/principal.js';
import { AppError } from '../errors/app-error.js';
import { requestFingerprint } from '../http/idempotency.js';
import { BODY_ERRORS, IdempotencyHeaders, KEY_AUTH_ERRORS } from '../http/schemas.js';
import { FINAL_STATUSES, type JobRow } from '../jobs/job-repository.js';
import { publicJobError } from '../jobs/job-errors.js';
import type { InferRequest } from '../jobs/job-requests.js';
import { createStreamSlots } from '../jobs/stream-slots.js';
import type { ModelRow } from '../models/model-repository.js';
import { receiptsForJobs } from '../receipts/receipt-lookup.js';
import { getGpt2Tokenizer } from '../runtime/gpt2-tokenizer.js';
import { chatJob, completionJob } from './completion-request.js';
import { openaiErrorResponses, useOpenAIErrors } from './openai-errors.js';
import { ChatCompletion, ChatCompletionRequest, Completion, CompletionRequest, OpenAIModel, OpenAIModelList } from './openai-schemas.js';
import { streamCompletion } from './openai-stream.js';
import { completionView, type Flavour } from './openai-views.js';

const security = [{ apiKey: [] }];
const CREATE_ERRORS = [...KEY_AUTH_ERRORS, ...BODY_ERRORS, 402, 404, 408, 409, 422, 503];

/** Job failures the request itself caused; every other one is the service's (nothing was charged). */
const INPUT_FAILURES = new Set(['context_length_exceeded', 'invalid_parameter']);

const answerHeaders = {
  'x-job-id': { type: 'string', description: 'The native job (GET /v1/jobs/{id})' },
  'x-receipt-id': { type: 'string', description: 'The signed receipt (GET /v1/receipts/{id})' },
  'x-receipt-jws': { type: 'string', description: 'The receipt itself, a compact JWS; `npx posthuman verify` checks it' },
};

const createResponses = (schema: unknown, example: unknown) => ({
  200: {
    description:
      'The completion; with `stream: true`, Server-Sent Events: `data: {chunk}` per token, the last chunk (or, with ' +
      '`stream_options.include_usage`, a chunk with `usage` and no choices) carrying the `posthuman` block with the ' +
      'receipt, then `data: [DONE]`',
    headers: answerHeaders,
    content: { 'application/json': { schema, example }, 'text/event-stream': { schema: Type.String() } },
  },
  ...openaiErrorResponses(CREATE_ERRORS),
});

const EXAMPLE_EXTENSION = {
  job_id: '6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11',
  weights_sha256: '1280b5d7161a7aa77b2b31e8496b0fff32f6765f1183dc3dc373fa34f421d21a',
  cost: 1040,
  receipt: { id: '0b8e3f2a-7c55-4f0e-8d6b-5a1e9c3d2f10', log_index: 41, jws: 'eyJhbGciOiJFZERTQSIs…' },
};

const openaiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  useOpenAIErrors(app);
  const tokenizer = getGpt2Tokenizer();
  // Streams of these routes count against SSE_MAX_PER_KEY of their own (per gateway process).
  const streamSlots = createStreamSlots(app.config.sse.maxPerKey);

  const modelView = (m: ModelRow, viewer: string) => ({
    id: m.id,
    object: 'model' as const,
    created: Math.floor(m.createdAt.getTime() / 1000),
    owned_by: m.ownerAccountId === null ? 'posthuman' : m.ownerAccountId === viewer ? 'you' : 'provider',
  });

  app.get(
    '/models',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'openaiListModels',
        tags: ['openai'],
        summary: 'List models (OpenAI-compatible)',
        description: 'The models that generate text, as OpenAI lists them. `GET /v1/models` has prices, hashes and the Ocean asset.',
        security,
        response: { 200: OpenAIModelList, ...openaiErrorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const viewer = keyPrincipal(request).accountId;
      const rows = await app.modelRepository.list();
      return { object: 'list' as const, data: rows.filter((m) => m.taskKinds.includes('infer')).map((m) => modelView(m, viewer)) };
    },
  );

  app.get(
    '/models/:model',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'openaiRetrieveModel',
        tags: ['openai'],
        summary: 'A model (OpenAI-compatible)',
        description: 'One model that generates text, as OpenAI shows it; 404 for an unknown id.',
        security,
        params: Type.Object({ model: Type.String({ minLength: 1, maxLength: 64, description: 'Model id', examples: ['tiny-gpt2'] }) }),
        response: { 200: OpenAIModel, ...openaiErrorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const model = await app.modelRepository.find(request.params.model);
      if (!model?.taskKinds.includes('infer')) throw new AppError('not_found', `model "${request.params.model}" not found`, { field: 'params.model' });
      return modelView(model, keyPrincipal(request).accountId);
    },
  );

  /** Runs `job` as a native infer job and answers it as an OpenAI completion, whole or streamed. */
  async function run(
    request: FastifyRequest,
    reply: FastifyReply,
    flavour: Flavour,
    body: { model: string; stream?: boolean | null; stream_options?: { include_usage?: boolean } | null },
    job: InferRequest,
  ) {
    const principal = keyPrincipal(request);
    const stream = body.stream === true;
    const release = stream ? streamSlots.acquire(principal.keyId) : undefined;
    if (release === null) {
      throw new AppError('too_many_streams', `this API key already holds ${app.config.sse.maxPerKey} open event streams; close one`, {
        headers: { 'Retry-After': '1' },
      });
    }
    try {
      const key = (request.headers as { 'idempotency-key'?: string })['idempotency-key'];
      const { job: row, replayed } = await app.jobService.submit(
        principal,
        // A stream asks the worker for every token (see InferRequest.stream).
        { kind: 'infer', model: body.model, request: stream ? { ...job, stream: true } : job },
        { key, fingerprint: requestFingerprint('POST', request.routeOptions.url ?? request.url, body) },
      );
      if (replayed) reply.header('Idempotent-Replayed', 'true');
      if (stream) {
        const deps = { db: app.db, events: app.jobEvents, receipts: app.jobService };
        return await streamCompletion(reply, deps, row, flavour, {
          includeUsage: body.stream_options?.include_usage === true,
          maxLifetimeMs: app.config.sse.maxLifetimeMs,
        });
      }
      return await answer(reply, row, flavour);
    } finally {
      release?.();
    }
  }

  async function answer(reply: FastifyReply, job: JobRow, flavour: Flavour) {
    const latest = await app.jobService.waitFor(job, app.config.jobs.syncTimeoutMs);
    reply.header('X-Job-Id', latest.id);
    reply.header('Content-Location', `/v1/jobs/${latest.id}`);
    if (!FINAL_STATUSES.includes(latest.status)) {
      // The job goes on and will be charged: the SDK must not send it again.
      throw new AppError('request_timeout', `the job did not finish within ${app.config.jobs.syncTimeoutMs} ms; it goes on at /v1/jobs/${latest.id}`, {
        headers: { 'x-should-retry': 'false', Location: `/v1/jobs/${latest.id}` },
      });
    }
    if (latest.status === 'failed') {
      const failure = publicJobError(latest.error?.code ?? 'worker_error', latest.error?.message ?? '');
      const input = INPUT_FAILURES.has(failure.code);
      if (!input) reply.header('Retry-After', '5');
      return reply
        .code(input ? 400 : 503)
        .type('application/json')
        .send({ error: { message: failure.message, type: input ? 'invalid_request_error' : 'server_error', param: null, code: failure.code } });
    }
    const receipt = (await receiptsForJobs(app.db, [latest.id])).get(latest.id);
    if (receipt) {
      reply.header('X-Receipt-Id', receipt.receiptId);
      reply.header('X-Receipt-JWS', receipt.jws);
    }
    return reply.type('application/json').send(completionView(latest, receipt, flavour));
  }

  app.post(
    '/completions',
    {
      config: { auth: 'key', scope: 'infer' },
      schema: {
        operationId: 'openaiCreateCompletion',
        tags: ['openai'],
        summary: 'Continue a prompt (OpenAI-compatible)',
        description:
          'OpenAI `POST /v1/completions` as a native infer job (scope `infer`): `max_tokens` (default 16) is ' +
          '`max_new_tokens`, `temperature` defaults to 1, `seed` to 0 (same seed, same text). Billed, held, ordered on ' +
          'chain and receipted like `POST /v1/infer`; the receipt id and JWS are in the X-Receipt-Id and X-Receipt-JWS ' +
          'headers and in the `posthuman` block. Waits up to SYNC_TIMEOUT_MS; a job still running then is a 408 with ' +
          '`x-should-retry: false` (it goes on: poll its Location). Errors are in OpenAI\'s shape.',
        security,
        headers: IdempotencyHeaders,
        body: CompletionRequest,
        response: createResponses(Completion, {
          id: 'cmpl-6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11',
          object: 'text_completion',
          created: 1764671000,
          model: 'tiny-gpt2',
          system_fingerprint: 'fp_1280b5d7161a',
          choices: [{ text: ' jumps over the lazy dog', index: 0, logprobs: null, finish_reason: 'length' }],
          usage: { prompt_tokens: 4, completion_tokens: 16, total_tokens: 20 },
          posthuman: EXAMPLE_EXTENSION,
        }),
      },
    },
    async (request, reply) => run(request, reply, 'completion', request.body, completionJob(request.body)),
  );

  app.post(
    '/chat/completions',
    {
      config: { auth: 'key', scope: 'infer' },
      schema: {
        operationId: 'openaiCreateChatCompletion',
        tags: ['openai'],
        summary: 'Answer a conversation (OpenAI-compatible)',
        description:
          'OpenAI `POST /v1/chat/completions` as a native infer job (scope `infer`). The messages are rendered with ' +
          'the chat template of the README (`System: …`, `User: …`, `Assistant: …` lines, then `Assistant:`), and ' +
          'generation stops before the model starts a new `User:` or `System:` turn. `max_tokens` defaults to what fits ' +
          'in the context. Text content only: no tools, images or log probabilities. Receipts, billing, waiting and ' +
          'errors as for completions.',
        security,
        headers: IdempotencyHeaders,
        body: ChatCompletionRequest,
        response: createResponses(ChatCompletion, {
          id: 'chatcmpl-6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11',
          object: 'chat.completion',
          created: 1764671000,
          model: 'tiny-gpt2',
          system_fingerprint: 'fp_1280b5d7161a',
          choices: [{ index: 0, message: { role: 'assistant', content: ' Hello there.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
          posthuman: EXAMPLE_EXTENSION,
        }),
      },
    },
    async (request, reply) => {
      const model = await app.modelRepository.find(request.body.model);
      const room = (prompt: string) => (model ? model.contextLength - tokenizer.countTokens(prompt, model.contextLength) : undefined);
      return run(request, reply, 'chat', request.body, chatJob(request.body, room));
    },
  );
};

export default openaiRoutes;
