// Webhook routes: an account registers endpoints for its job events, rotates their secrets, reads
// every delivery and attempt (the dead letters too) and replays a delivery. Scope `keys` (account
// administration), or a wallet session.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { accountPrincipal } from '../accounts/principal.js';
import { AppError, notFound } from '../errors/app-error.js';
import { BODY_ERRORS, errorResponses, KEY_AUTH_ERRORS, NoBody, Page, PageQuery } from '../http/schemas.js';
import { createWebhookRepository } from './webhook-repository.js';
import { checkWebhookUrl } from './webhook-urls.js';
import { deliveryView, endpointView, EventTypeSchema, NewWebhookSecretSchema, WebhookDeliverySchema, WebhookEndpointSchema } from './webhook-views.js';
import { DELIVERY_STATUSES, type DeliveryStatus, WEBHOOK_EVENT_TYPES } from './webhooks-schema.js';

const security: Record<string, string[]>[] = [{ apiKey: [] }, { walletSession: [] }];
const config = { auth: 'key' as const, scope: 'keys' as const, session: true };
const ENDPOINT_ID = Type.String({ format: 'uuid', description: 'The endpoint id', examples: ['2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b'] });
const EndpointParams = Type.Object({ id: ENDPOINT_ID });
const DeliveryParams = Type.Object({
  id: ENDPOINT_ID,
  delivery_id: Type.String({ format: 'uuid', description: 'The delivery id', examples: ['4e5f6071-8293-4a4b-b5c6-d7e8f9a0b1c2'] }),
});
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'Where to POST the events (https; internal addresses are refused)', examples: ['https://example.com/hooks/posthuman'] });
const EventTypes = Type.Array(EventTypeSchema, {
  minItems: 1,
  uniqueItems: true,
  description: 'The events to send (default: all)',
  examples: [['job.succeeded', 'job.failed']],
});
const Description = Type.String({ maxLength: 500, description: 'A note for people', examples: ['job notifications'] });

const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const repo = createWebhookRepository(app.db);
  const allowPrivate = app.config.webhooks.allowPrivateUrls;
  const endpointOf = async (accountId: string, id: string) => {
    const endpoint = await repo.find(accountId, id);
    if (!endpoint) throw notFound('webhook endpoint');
    return endpoint;
  };

  app.post(
    '/v1/webhooks',
    {
      config,
      schema: {
        operationId: 'createWebhookEndpoint',
        tags: ['webhooks'],
        summary: 'Register an endpoint for job events (the signing secret is shown once)',
        description:
          'Events of this account\'s jobs are POSTed to `url` as Standard Webhooks messages: a JSON body ' +
          '`{type, timestamp, data}` with `webhook-id`, `webhook-timestamp` and `webhook-signature` headers (HMAC-SHA256 with ' +
          'the secret answered here; verify with any Standard Webhooks library). A non-2xx answer or none within ' +
          'WEBHOOK_TIMEOUT_MS is retried with exponential backoff; after WEBHOOK_MAX_ATTEMPTS the delivery is `dead` until ' +
          'replayed. Every attempt is recorded.',
        security,
        body: Type.Object(
          { url: Url, event_types: Type.Optional(EventTypes), description: Type.Optional(Description) },
          {
            additionalProperties: false,
            title: 'CreateWebhookEndpointRequest',
            examples: [{ url: 'https://example.com/hooks/posthuman', event_types: ['job.succeeded', 'job.failed'] }],
          },
        ),
        response: { 201: NewWebhookSecretSchema, ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS]) },
      },
    },
    async (request, reply) => {
      const { accountId } = accountPrincipal(request);
      const url = checkWebhookUrl(request.body.url, allowPrivate);
      const endpoint = await repo.create(accountId, {
        url: url.toString(),
        eventTypes: request.body.event_types ?? [...WEBHOOK_EVENT_TYPES],
        description: request.body.description ?? null,
      });
      return reply.code(201).send({ ...endpointView(endpoint), secret: endpoint.secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      config,
      schema: {
        operationId: 'listWebhookEndpoints',
        tags: ['webhooks'],
        summary: "This account's webhook endpoints",
        description: 'Every endpoint not deleted, newest first (never their secrets).',
        security,
        response: { 200: Type.Object({ data: Type.Array(WebhookEndpointSchema) }, { title: 'WebhookEndpointList' }), ...errorResponses(KEY_AUTH_ERRORS) },
      },
    },
    async (request) => ({ data: (await repo.list(accountPrincipal(request).accountId)).map(endpointView) }),
  );

  app.get(
    '/v1/webhooks/:id',
    {
      config,
      schema: {
        operationId: 'getWebhookEndpoint',
        tags: ['webhooks'],
        summary: 'One webhook endpoint',
        description: 'The endpoint (not its secret). Another account\'s endpoint is a 404.',
        security,
        params: EndpointParams,
        response: { 200: WebhookEndpointSchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => endpointView(await endpointOf(accountPrincipal(request).accountId, request.params.id)),
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      config,
      schema: {
        operationId: 'updateWebhookEndpoint',
        tags: ['webhooks'],
        summary: 'Change an endpoint: its URL, events, note, or whether it is enabled',
        description:
          'A disabled endpoint gets no new deliveries, and its pending ones are given up (`dead`, replayable). Fields left out stay as they are; an empty object changes nothing and answers the endpoint.',
        security,
        params: EndpointParams,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            event_types: Type.Optional(EventTypes),
            description: Type.Optional(Description),
            enabled: Type.Optional(Type.Boolean({ description: 'false stops deliveries to it' })),
          },
          { additionalProperties: false, title: 'UpdateWebhookEndpointRequest', examples: [{ enabled: false }] },
        ),
        response: { 200: WebhookEndpointSchema, ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS, 404]) },
      },
    },
    async (request) => {
      const { accountId } = accountPrincipal(request);
      const b = request.body;
      const patch = {
        ...(b.url !== undefined ? { url: checkWebhookUrl(b.url, allowPrivate).toString() } : {}),
        ...(b.event_types !== undefined ? { eventTypes: b.event_types } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
      };
      // An empty patch changes nothing (as a JSON merge patch of {} would): the endpoint as it is.
      if (Object.keys(patch).length === 0) return endpointView(await endpointOf(accountId, request.params.id));
      const updated = await repo.update(accountId, request.params.id, patch);
      if (!updated) throw notFound('webhook endpoint');
      return endpointView(updated);
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      config,
      schema: {
        operationId: 'deleteWebhookEndpoint',
        tags: ['webhooks'],
        summary: 'Delete an endpoint',
        description: 'No more events go to it, and its pending deliveries are given up. Its id answers 404 from then on.',
        security,
        params: EndpointParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request, reply) => {
      if (!(await repo.remove(accountPrincipal(request).accountId, request.params.id))) throw notFound('webhook endpoint');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      config,
      schema: {
        operationId: 'rotateWebhookSecret',
        tags: ['webhooks'],
        summary: "Give an endpoint a new signing secret (shown once); the old one keeps signing for a while",
        description:
          'Until `previous_secret_expires_at` (now + `grace_seconds`, default 86400) every message carries two signatures in ' +
          '`webhook-signature`, one per secret, so the receiver can switch to the new secret at its own pace.',
        security,
        params: EndpointParams,
        body: Type.Union(
          [
            Type.Object(
              { grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400, default: 86_400, description: 'How long the old secret still signs', examples: [3600] })) },
              { additionalProperties: false },
            ),
            Type.Null(),
          ],
          { title: 'RotateWebhookSecretRequest', examples: [{ grace_seconds: 3600 }] },
        ),
        response: { 200: NewWebhookSecretSchema, ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS, 404]) },
      },
    },
    async (request) => {
      const grace = request.body?.grace_seconds ?? 86_400;
      const rotated = await repo.rotateSecret(accountPrincipal(request).accountId, request.params.id, grace);
      if (!rotated) throw notFound('webhook endpoint');
      return { ...endpointView(rotated), secret: rotated.secret };
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config,
      schema: {
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        summary: "An endpoint's deliveries, newest first; `status=dead` lists the dead letters",
        description: 'Each event sent (or being sent) to this endpoint with its status, attempts and last answer. Pages with `next_cursor` like `GET /v1/jobs`.',
        security,
        params: EndpointParams,
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Unsafe<DeliveryStatus>({ type: 'string', enum: [...DELIVERY_STATUSES], description: 'Only deliveries in this state', examples: ['dead'] })),
        }),
        response: { 200: Page(WebhookDeliverySchema, 'WebhookDeliveryPage'), ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const endpoint = await endpointOf(accountPrincipal(request).accountId, request.params.id);
      const page = await repo.deliveries(endpoint.id, { limit: request.query.limit ?? 50, cursor: request.query.cursor, status: request.query.status });
      return { data: page.data.map((r) => deliveryView(r.delivery, r.event)), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries/:delivery_id',
    {
      config,
      schema: {
        operationId: 'getWebhookDelivery',
        tags: ['webhooks'],
        summary: 'One delivery with every attempt',
        description: 'Each attempt: when, how long, the status the endpoint answered (or the error) and the start of its answer.',
        security,
        params: DeliveryParams,
        response: { 200: WebhookDeliverySchema, ...errorResponses([...KEY_AUTH_ERRORS, 404]) },
      },
    },
    async (request) => {
      const endpoint = await endpointOf(accountPrincipal(request).accountId, request.params.id);
      const row = await repo.delivery(endpoint.id, request.params.delivery_id);
      if (!row) throw notFound('webhook delivery');
      return deliveryView(row.delivery, row.event, await repo.attempts(row.delivery.id));
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:delivery_id/replay',
    {
      config,
      schema: {
        operationId: 'replayWebhookDelivery',
        tags: ['webhooks'],
        summary: 'Send a delivery again (a dead letter, or one that succeeded)',
        description:
          'The delivery becomes pending with its attempt count from zero and is sent at the next sweep, with the same ' +
          'message id (`webhook-id`), so a receiver that deduplicates by id sees it as the same event. A delivery still ' +
          'pending is a 409.',
        security,
        params: DeliveryParams,
        body: NoBody,
        response: {
          202: { description: 'Queued to be sent again', content: { 'application/json': { schema: WebhookDeliverySchema } } },
          ...errorResponses([...KEY_AUTH_ERRORS, ...BODY_ERRORS, 404, 409]),
        },
      },
    },
    async (request, reply) => {
      const endpoint = await endpointOf(accountPrincipal(request).accountId, request.params.id);
      const row = await repo.delivery(endpoint.id, request.params.delivery_id);
      if (!row) throw notFound('webhook delivery');
      if (row.delivery.status === 'pending') throw new AppError('conflict', 'the delivery is still pending: it is being sent or retried');
      if (!endpoint.enabled) throw new AppError('conflict', 'the endpoint is disabled: enable it first');
      const replayed = await repo.replay(endpoint.id, row.delivery.id);
      return reply.code(202).type('application/json').send(deliveryView(replayed, row.event));
    },
  );
};

export default webhookRoutes;
