// Job routes: POST /v1/infer, POST /v1/evaluate, and GET/DELETE /v1/jobs.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, notFound } from '../errors/app-error.js';
import { requestFingerprint } from '../http/idempotency.js';
import { preferredWait } from '../http/prefer.js';
import { BODY_ERRORS, errorResponses, IdParams, IdempotencyHeaders, KEY_AUTH_ERRORS, Page, PageQuery } from '../http/schemas.js';
import { keyPrincipal } from '../accounts/principal.js';
import { EvaluateBody, FinetuneBody, InferBody, MAX_TEXT_CHARS } from './job-requests.js';
import type { SubmissionInput } from './job-service.js';
import { FINAL_STATUSES, type JobRow } from './job-repository.js';
import { streamJob } from './job-stream.js';
import { createStreamSlots } from './stream-slots.js';
import { JobSchema, jobView } from './job-views.js';
import { receiptsForJobs } from '../receipts/receipt-lookup.js';
import { latestAudits } from '../audits/audit-service.js';
import { recordSpan, timed } from '../observability/job-spans.js';

const security = [{ apiKey: [] }];
const JobHeaders = Type.Object({
  ...IdempotencyHeaders.properties,
  prefer: Type.Optional(
    Type.String({
      description:
        'RFC 7240: `respond-async` answers 202 at once; `wait=N` waits up to N seconds (at most SSE_MAX_LIFETIME_MS) ' +
        'instead of SYNC_TIMEOUT_MS, then 202; both: wait N seconds, then 202. Honoured preferences are echoed in ' +
        'Preference-Applied; others are ignored',
      examples: ['wait=5', 'respond-async'],
    }),
  ),
});
const CREATE_ERRORS = [...KEY_AUTH_ERRORS, ...BODY_ERRORS, 402, 404, 409, 422, 503];
const jobResponses = (sse: boolean) => ({
  200: sse
    ? {
        description: 'The finished job; or, with `stream: true`, Server-Sent Events (`token`…, then `done` with the job)',
        content: { 'application/json': { schema: JobSchema }, 'text/event-stream': { schema: Type.String() } },
      }
    : JobSchema,
  202: {
    description: 'Accepted and not finished yet: poll the job `url`',
    headers: { 'preference-applied': { type: 'string', description: 'The Prefer preferences honoured, e.g. `wait=5`' } },
    content: { 'application/json': { schema: JobSchema } },
  },
  ...errorResponses(CREATE_ERRORS),
});

const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // SSE streams per API key in this process (replicas each count their own).
  const { maxPerKey, maxLifetimeMs } = app.config.sse;
  const streamSlots = createStreamSlots(maxPerKey);
  function takeStreamSlot(keyId: string): () => void {
    const release = streamSlots.acquire(keyId);
    if (!release) {
      throw new AppError('too_many_streams', `this API key already holds ${maxPerKey} open event streams; close one or poll the job`, {
        headers: { 'Retry-After': '1' },
      });
    }
    return release;
  }
  const follow = (reply: FastifyReply, jobId: string) => streamJob(reply, { db: app.db, events: app.jobEvents, receipts: app.jobService }, jobId, { maxLifetimeMs });

  async function viewWithReceipt(job: JobRow) {
    if (job.status !== 'succeeded') return jobView(job);
    let [found, audited] = await Promise.all([receiptsForJobs(app.db, [job.id]), latestAudits(app.db, [job.id])]);
    if (!found.has(job.id)) {
      // Finished while nobody waited (202, a fine-tune): issue its receipt from the outbox now.
      await app.jobService.ensureReceipt(job.id);
      found = await receiptsForJobs(app.db, [job.id]);
    }
    return jobView(job, found.get(job.id), audited.get(job.id));
  }

  async function answer(request: FastifyRequest, reply: FastifyReply, job: JobRow, stream: boolean, handlerStartedMs: number) {
    reply.header('Location', `/v1/jobs/${job.id}`);
    recordSpan(job.id, 'gateway.auth_parse', handlerStartedMs);
    if (stream) return follow(reply, job.id);
    // Training runs for minutes: it answers 202 at once, like `Prefer: respond-async`.
    const { waitMs, applied } = preferredWait(request.headers.prefer, {
      defaultMs: app.config.jobs.syncTimeoutMs,
      maxMs: app.config.sse.maxLifetimeMs,
      alwaysAsync: job.kind === 'finetune',
    });
    if (applied) reply.header('Preference-Applied', applied);
    const latest = waitMs === 0 ? job : await app.jobService.waitFor(job, waitMs);
    const final = FINAL_STATUSES.includes(latest.status);
    const view = await timed(job.id, 'gateway.view', () => viewWithReceipt(latest));
    recordSpan(job.id, 'gateway.total', reply.elapsedTime);
    return reply.code(final ? 200 : 202).type('application/json').send(view);
  }

  async function submit(request: FastifyRequest, reply: FastifyReply, submission: SubmissionInput, body: unknown, stream: boolean) {
    const handlerStartedMs = reply.elapsedTime;
    const principal = keyPrincipal(request);
    // A stream's slot is taken before the job exists, so a refused stream costs nothing.
    const release = stream ? takeStreamSlot(principal.keyId) : undefined;
    try {
      const key = (request.headers as { 'idempotency-key'?: string })['idempotency-key'];
      const { job, replayed } = await app.jobService.submit(principal, submission, {
        key,
        fingerprint: requestFingerprint('POST', request.routeOptions.url ?? request.url, body),
      });
      if (replayed) reply.header('Idempotent-Replayed', 'true');
      return await answer(request, reply, job, stream, handlerStartedMs);
    } finally {
      release?.();
    }
  }

  app.post(
    '/v1/infer',
    {
      config: { auth: 'key', scope: 'infer' },
      schema: {
        operationId: 'infer',
        tags: ['jobs'],
        summary: 'Generate text with a model',
        description:
          'Holds the maximum cost (per-job price + per-1k-token price × (input tokens + max_new_tokens)), runs the job ' +
          'on a worker and captures the actual cost. Waits up to SYNC_TIMEOUT_MS for the answer, else 202 with the job ' +
          'url; `Prefer: respond-async` answers 202 at once and `Prefer: wait=N` waits up to N seconds instead (echoed in ' +
          'Preference-Applied); `stream: true` answers Server-Sent Events (at most ' +
          'SSE_MAX_PER_KEY open streams per key, else 429 `too_many_streams`; a stream open SSE_MAX_LIFETIME_MS ends ' +
          'with an `expired` event naming the job url). ' +
          'An Idempotency-Key replays the same job; the same key with another body is a 422.',
        security,
        headers: JobHeaders,
        body: InferBody,
        response: jobResponses(true),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const p = body.parameters;
      const parameters = {
        max_new_tokens: p?.max_new_tokens ?? 32,
        temperature: p?.temperature ?? 0,
        top_k: p?.top_k,
        top_p: p?.top_p,
        seed: p?.seed ?? 0,
        stop: p?.stop,
      };
      return submit(
        request,
        reply,
        {
          kind: 'infer',
          model: body.model,
          modelSha256: body.model_sha256,
          request: { input: body.input, parameters, ...(body.stream === true ? { stream: true as const } : {}) },
        },
        body,
        body.stream === true,
      );
    },
  );

  app.post(
    '/v1/evaluate',
    {
      config: { auth: 'key', scope: 'evaluate' },
      schema: {
        operationId: 'evaluate',
        tags: ['jobs'],
        summary: 'Score text: mean token loss and perplexity',
        description:
          'Loss is the mean negative log-likelihood (nats) of each token given those before it, like GPT2LMHeadModel ' +
          'with labels = the text; per text and overall (token-weighted). Texts longer than the context are scored in ' +
          'sliding windows, each token once. Costs the per-job price + the per-1k-token price × tokens.',
        security,
        headers: JobHeaders,
        body: EvaluateBody,
        response: jobResponses(false),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const texts = body.texts ?? (body.text !== undefined ? [body.text] : []);
      if (texts.length === 0 || (body.text !== undefined && body.texts !== undefined)) {
        throw new AppError('validation_failed', 'send exactly one of `text` or `texts`', { field: 'body.texts' });
      }
      const chars = texts.reduce((sum, t) => sum + t.length, 0);
      if (chars > MAX_TEXT_CHARS) {
        throw new AppError('validation_failed', `texts hold ${chars} characters in all; at most ${MAX_TEXT_CHARS} are taken`, {
          field: 'body.texts',
        });
      }
      return submit(request, reply, { kind: 'evaluate', model: body.model, modelSha256: body.model_sha256, request: { texts } }, body, false);
    },
  );

  app.post(
    '/v1/finetune',
    {
      config: { auth: 'key', scope: 'finetune' },
      schema: {
        operationId: 'finetune',
        tags: ['jobs'],
        summary: 'Fine-tune a model on datasets: a new compute-only model',
        description:
          'Trains a copy of `model` (its weights never leave the workers) on the given datasets (ids from ' +
          'GET /v1/datasets, yours or listed ones, and/or inline texts) with AdamW, evaluates it before and after on a ' +
          'held-out `eval_fraction` of the data, stores the new weights by sha256, registers them as model `name` owned ' +
          'by you (parent recorded) and publishes it on chain as its own Ocean compute-only asset. Holds the per-job ' +
          'price + the per-1k-token price × steps × batch_size × context length + each dataset\'s price; captures the ' +
          'steps actually run (a cancel stops at the next step). Same parent, data, hyper-parameters and seed give the ' +
          'same new weights sha256. Answers 202 with the job url at once; follow `progress` (step, loss, tokens/s) at ' +
          '`GET /v1/jobs/{id}` or as Server-Sent Events at `/v1/jobs/{id}/events`.',
        security,
        headers: JobHeaders,
        body: FinetuneBody,
        response: jobResponses(false),
      },
    },
    async (request, reply) => {
      const body = request.body;
      return submit(request, reply, { kind: 'finetune', model: body.model, modelSha256: body.model_sha256, body }, body, false);
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'getJob',
        tags: ['jobs'],
        summary: 'A job of this account',
        description:
          'The job as it is now: status, output or scores, usage, cost (once final), the Ocean order that paid for it, ' +
          'its signed receipt (once succeeded) and the latest replay audit. Another account\'s job is a 404.',
        security,
        params: IdParams,
        response: { 200: JobSchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const job = await app.jobService.get(keyPrincipal(request).accountId, request.params.id);
      if (!job) throw notFound('job');
      return viewWithReceipt(job);
    },
  );

  app.get(
    '/v1/jobs/:id/events',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'streamJobEvents',
        tags: ['jobs'],
        summary: "Follow a job's progress as Server-Sent Events",
        description:
          'For a job started with `Prefer: respond-async`: `status` and `token` events while it runs, then `done` with ' +
          'the whole job (output, usage, cost, receipt). A job already finished answers with `done` at once. At most ' +
          'SSE_MAX_PER_KEY streams per key are open at once (else 429 `too_many_streams`); after SSE_MAX_LIFETIME_MS ' +
          'the stream ends with an `expired` event (the job goes on: poll it or follow again).',
        security,
        params: IdParams,
        response: {
          200: { description: 'Server-Sent Events', content: { 'text/event-stream': { schema: Type.String() } } },
          ...errorResponses([...KEY_AUTH_ERRORS, 404]),
        },
      },
    },
    async (request, reply) => {
      const principal = keyPrincipal(request);
      const job = await app.jobService.get(principal.accountId, request.params.id);
      if (!job) throw notFound('job');
      const release = takeStreamSlot(principal.keyId);
      try {
        return await follow(reply, job.id);
      } finally {
        release();
      }
    },
  );

  app.get(
    '/v1/jobs',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'listJobs',
        tags: ['jobs'],
        summary: "This account's jobs, newest first",
        description: 'Pages by an opaque cursor (created_at to the microsecond and the id), so jobs created in the same millisecond are never skipped or repeated.',
        security,
        querystring: PageQuery,
        response: { 200: Page(JobSchema, 'JobPage'), ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => {
      const page = await app.jobService.list(keyPrincipal(request).accountId, {
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      });
      const ids = page.data.map((j) => j.id);
      const [found, audited] = await Promise.all([receiptsForJobs(app.db, ids), latestAudits(app.db, ids)]);
      return { data: page.data.map((j) => jobView(j, found.get(j.id), audited.get(j.id))), next_cursor: page.nextCursor };
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      config: { auth: 'key' },
      schema: {
        operationId: 'cancelJob',
        tags: ['jobs'],
        summary: 'Cancel a job',
        description:
          'A queued job is cancelled at once and its hold released in full (200). A running job is told to stop (202): ' +
          'inference stops between tokens and is charged for the tokens generated so far; evaluation stops and is not ' +
          'charged. A finished job answers 409.',
        security,
        params: IdParams,
        response: {
          200: JobSchema,
          202: { description: 'Cancellation requested', content: { 'application/json': { schema: JobSchema } } },
          ...errorResponses([...KEY_AUTH_ERRORS, 404, 409]),
        },
      },
    },
    async (request, reply) => {
      const { job, immediate } = await app.jobService.cancel(keyPrincipal(request).accountId, request.params.id);
      return reply.code(immediate ? 200 : 202).type('application/json').send(jobView(job));
    },
  );
};

export default jobRoutes;
