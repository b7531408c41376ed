// What the webhook routes answer: endpoints (their secret only when just made or rotated),
// deliveries with their event, and attempts.
import { Type } from 'typebox';
import { Nullable, Uuid } from '../http/schemas.js';
import { messageId } from './webhook-payloads.js';
import type { EndpointRow } from './webhook-repository.js';
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES, type webhookAttempts, type webhookDeliveries, type webhookEvents } from './webhooks-schema.js';

const Time = Type.String({ format: 'date-time' });
const EXAMPLE_ENDPOINT = {
  id: '2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b',
  object: 'webhook_endpoint',
  url: 'https://example.com/hooks/posthuman',
  description: 'job notifications',
  event_types: ['job.succeeded', 'job.failed'],
  enabled: true,
  previous_secret_expires_at: null,
  created_at: '2026-11-27T10:51:42.123Z',
};

export const EventTypeSchema = Type.Unsafe<string>({
  type: 'string',
  enum: [...WEBHOOK_EVENT_TYPES],
  title: 'WebhookEventType',
  description: 'job.succeeded, job.failed, job.cancelled (data: the job, with its receipt once succeeded); finetune.progress (data: the job id and its progress)',
});

export const WebhookEndpointSchema = Type.Object(
  {
    id: Uuid,
    object: Type.Literal('webhook_endpoint'),
    url: Type.String(),
    description: Nullable(Type.String()),
    event_types: Type.Array(EventTypeSchema),
    enabled: Type.Boolean(),
    previous_secret_expires_at: Nullable(Type.String({ format: 'date-time', description: 'Until then messages also carry a signature with the secret before the last rotation' })),
    created_at: Time,
  },
  { title: 'WebhookEndpoint', description: 'Where job events of this account are sent', examples: [EXAMPLE_ENDPOINT] },
);

export const NewWebhookSecretSchema = Type.Object(
  {
    ...WebhookEndpointSchema.properties,
    secret: Type.String({ description: 'The signing secret (`whsec_…`, Standard Webhooks); shown now only, store it' }),
  },
  {
    title: 'WebhookEndpointWithSecret',
    description: 'An endpoint just created or given a new secret',
    examples: [{ ...EXAMPLE_ENDPOINT, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
  },
);

export const WebhookAttemptSchema = Type.Object(
  {
    started_at: Time,
    duration_ms: Type.Integer(),
    status_code: Nullable(Type.Integer({ description: 'What the endpoint answered; null when it did not (refused, timed out)' })),
    error: Nullable(Type.String()),
    response_body: Nullable(Type.String({ description: 'The first 1,000 characters of the answer' })),
  },
  { title: 'WebhookAttempt' },
);

export const WebhookDeliverySchema = Type.Object(
  {
    id: Uuid,
    object: Type.Literal('webhook_delivery'),
    endpoint_id: Uuid,
    event: Type.Object({
      id: Type.String({ description: 'The message id (the webhook-id header), the same on every attempt and replay' }),
      type: EventTypeSchema,
      job_id: Uuid,
      created_at: Time,
    }),
    status: Type.Unsafe<string>({
      type: 'string',
      enum: [...DELIVERY_STATUSES],
      description: 'pending (to be sent, or retried at next_attempt_at), succeeded (2xx), dead (gave up after WEBHOOK_MAX_ATTEMPTS: replay it)',
    }),
    attempts: Type.Integer({ description: 'Attempts since created or last replayed' }),
    next_attempt_at: Nullable(Time),
    last_status_code: Nullable(Type.Integer()),
    last_error: Nullable(Type.String()),
    created_at: Time,
    delivered_at: Nullable(Time),
    dead_at: Nullable(Time),
    attempt_log: Type.Optional(Type.Array(WebhookAttemptSchema, { description: 'Every attempt, oldest first (GET of one delivery)' })),
  },
  {
    title: 'WebhookDelivery',
    description: 'One event sent (or being sent) to one endpoint',
    examples: [
      {
        id: '4e5f6071-8293-4a4b-b5c6-d7e8f9a0b1c2',
        object: 'webhook_delivery',
        endpoint_id: '2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b',
        event: { id: 'msg_9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', type: 'job.succeeded', job_id: '6f1c2b9e-4d1a-4b7e-9a53-2f1e0c4d8a11', created_at: '2026-11-27T10:51:42.160Z' },
        status: 'succeeded',
        attempts: 1,
        next_attempt_at: null,
        last_status_code: 204,
        last_error: null,
        created_at: '2026-11-27T10:51:42.900Z',
        delivered_at: '2026-11-27T10:51:42.950Z',
        dead_at: null,
      },
    ],
  },
);

export function endpointView(e: EndpointRow) {
  return {
    id: e.id,
    object: 'webhook_endpoint' as const,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    enabled: e.enabled,
    previous_secret_expires_at: e.previousSecret && e.previousSecretExpiresAt ? e.previousSecretExpiresAt.toISOString() : null,
    created_at: e.createdAt.toISOString(),
  };
}

type DeliveryRow = typeof webhookDeliveries.$inferSelect;
type EventRow = typeof webhookEvents.$inferSelect;
type AttemptRow = typeof webhookAttempts.$inferSelect;

export function deliveryView(d: DeliveryRow, e: EventRow, attempts?: AttemptRow[]) {
  return {
    id: d.id,
    object: 'webhook_delivery' as const,
    endpoint_id: d.endpointId,
    event: { id: messageId(e.id), type: e.type, job_id: e.jobId, created_at: e.createdAt.toISOString() },
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    created_at: d.createdAt.toISOString(),
    delivered_at: d.deliveredAt?.toISOString() ?? null,
    dead_at: d.deadAt?.toISOString() ?? null,
    ...(attempts
      ? {
          attempt_log: attempts.map((a) => ({
            started_at: a.startedAt.toISOString(),
            duration_ms: a.durationMs,
            status_code: a.statusCode,
            error: a.error,
            response_body: a.responseBody,
          })),
        }
      : {}),
  };
}
