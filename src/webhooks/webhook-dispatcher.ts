// The gateway's webhook sweeper: fans job events out of the outbox into one delivery per endpoint
// that wants them, then sends due deliveries, recording every attempt. A failed attempt is retried
// with exponential backoff; after the attempt limit the delivery is dead (a visible dead letter)
// until replayed. Claims are leased rows (FOR UPDATE SKIP LOCKED), so replicas never send one
// delivery twice at once, and nothing here runs on a job's path.
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import { type Db, rowsOf } from '../db/database.js';
import { eventBody, messageId } from './webhook-payloads.js';
import { sendWebhook } from './webhook-sender.js';
import { signMessage } from './webhook-signing.js';
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from './webhooks-schema.js';

export interface WebhookDispatcherDeps {
  db: Db;
  config: Config['webhooks'];
  log: FastifyBaseLogger;
  /** Issues a succeeded job's receipt first, so job.succeeded carries it. */
  receipts: { ensureReceipt(jobId: string): Promise<void> } | null;
}

const BATCH = 20;
const MAX_BACKOFF_MS = 3_600_000;

/** The wait before retry `attempt + 1`: base × 2^(attempt-1), capped at an hour, plus up to 10% jitter. */
export function retryDelayMs(attempt: number, baseMs: number, random = Math.random): number {
  const delay = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay * (1 + random() * 0.1));
}

type Rows<T> = { rows: T[] } | T[];

export function createWebhookDispatcher(deps: WebhookDispatcherDeps) {
  const { db, config, log } = deps;

  /**
   * Turns undistributed events into deliveries, in one statement; returns how many events. A
   * fine-tune's progress events of one batch collapse into the latest: a fast trainer records a
   * step every few milliseconds, and an endpoint wants where it is, not every step.
   */
  async function fanOut(): Promise<number> {
    const result = await db.execute(sql`
      WITH ev AS (
        SELECT id, account_id, type, job_id, created_at FROM ${webhookEvents}
        WHERE fanned_out_at IS NULL ORDER BY created_at LIMIT 200 FOR UPDATE SKIP LOCKED
      ), created AS (
        INSERT INTO ${webhookDeliveries} (event_id, endpoint_id)
        SELECT ev.id, e.id FROM ev JOIN ${webhookEndpoints} e
          ON e.account_id = ev.account_id AND e.enabled AND e.deleted_at IS NULL AND ev.type = ANY (e.event_types)
        WHERE ev.type <> 'finetune.progress' OR NOT EXISTS (
          SELECT 1 FROM ev later
          WHERE later.job_id = ev.job_id AND later.type = 'finetune.progress' AND (later.created_at, later.id) > (ev.created_at, ev.id)
        )
        ON CONFLICT DO NOTHING RETURNING 1
      )
      UPDATE ${webhookEvents} SET fanned_out_at = now() WHERE id IN (SELECT id FROM ev) RETURNING id`);
    return rowsOf(result as Rows<{ id: string }>).length;
  }

  /** Leases due deliveries for this sweeper: their next attempt moves past the attempt's deadline. */
  async function claimDue(): Promise<string[]> {
    const leaseMs = config.timeoutMs + 30_000;
    const result = await db.execute(sql`
      UPDATE ${webhookDeliveries} SET next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
      WHERE id IN (
        SELECT id FROM ${webhookDeliveries} WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED
      ) RETURNING id`);
    return rowsOf(result as Rows<{ id: string }>).map((r) => r.id);
  }

  async function deliver(deliveryId: string): Promise<void> {
    const [row] = await db
      .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints, event: webhookEvents })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
      .where(eq(webhookDeliveries.id, deliveryId));
    if (row?.delivery.status !== 'pending') return;
    const { delivery, endpoint, event } = row;
    const started = new Date();
    let outcome: { statusCode: number | null; error: string | null; responseBody: string | null; durationMs: number };
    if (endpoint.deletedAt || !endpoint.enabled) {
      outcome = { statusCode: null, error: endpoint.deletedAt ? 'the endpoint was deleted' : 'the endpoint is disabled', responseBody: null, durationMs: 0 };
    } else {
      try {
        const body = await eventBody(db, event, deps.receipts);
        const secrets = [endpoint.secret];
        if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > started) secrets.push(endpoint.previousSecret);
        const headers = signMessage(messageId(event.id), started, body, secrets);
        outcome = await sendWebhook(new URL(endpoint.url), body, { ...headers }, { timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivateUrls });
      } catch (err) {
        log.warn({ err, deliveryId }, 'building a webhook message failed');
        outcome = { statusCode: null, error: 'the message could not be built; retried', responseBody: null, durationMs: 0 };
      }
    }
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const attempts = delivery.attempts + 1;
    const gone = endpoint.deletedAt !== null || !endpoint.enabled;
    const dead = !ok && (gone || attempts >= config.maxAttempts);
    await db.transaction(async (tx) => {
      await tx.insert(webhookAttempts).values({
        deliveryId,
        startedAt: started,
        durationMs: outcome.durationMs,
        statusCode: outcome.statusCode,
        error: outcome.error,
        responseBody: outcome.responseBody,
      });
      await tx
        .update(webhookDeliveries)
        .set({
          attempts,
          lastStatusCode: outcome.statusCode,
          lastError: ok ? null : (outcome.error ?? `the endpoint answered ${outcome.statusCode}`),
          ...(ok
            ? { status: 'succeeded' as const, deliveredAt: new Date() }
            : dead
              ? { status: 'dead' as const, deadAt: new Date() }
              : { nextAttemptAt: new Date(Date.now() + retryDelayMs(attempts, config.retryBaseMs)) }),
        })
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending')));
    });
    if (dead) log.warn({ deliveryId, endpoint: endpoint.id, attempts }, 'webhook delivery given up (dead letter)');
  }

  let running: Promise<void> | null = null;
  /** One pass: fan out, then send what is due (in parallel, one batch). */
  async function sweep(): Promise<void> {
    await fanOut();
    const due = await claimDue();
    await Promise.all(due.map((id) => deliver(id).catch((err) => log.warn({ err, deliveryId: id }, 'webhook delivery failed'))));
  }

  return {
    sweep,
    /** Sweeps every `sweepIntervalMs` (a pass still running is not overlapped). */
    start() {
      const timer = setInterval(() => {
        if (running) return;
        running = sweep()
          .catch((err) => log.warn({ err }, 'webhook sweep failed; the next one retries'))
          .finally(() => {
            running = null;
          });
      }, config.sweepIntervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
