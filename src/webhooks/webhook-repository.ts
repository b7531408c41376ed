// Reads and writes an account's webhook endpoints, deliveries and attempts. Another account's
// endpoint or delivery is indistinguishable from a missing one.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { decodeCursor } from '../jobs/job-repository.js';
import { newWebhookSecret } from './webhook-signing.js';
import { type DeliveryStatus, webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from './webhooks-schema.js';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

const createdAtMicros = sql<string>`to_char(${webhookDeliveries.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function createWebhookRepository(db: Db) {
  const owned = (accountId: string, id: string) =>
    and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.accountId, accountId), isNull(webhookEndpoints.deletedAt));

  return {
    async create(accountId: string, input: { url: string; eventTypes: string[]; description: string | null }): Promise<EndpointRow> {
      const [row] = await db
        .insert(webhookEndpoints)
        .values({ accountId, url: input.url, eventTypes: input.eventTypes, description: input.description, secret: newWebhookSecret() })
        .returning();
      return row;
    },
    list: (accountId: string) =>
      db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.accountId, accountId), isNull(webhookEndpoints.deletedAt)))
        .orderBy(desc(webhookEndpoints.createdAt)),
    async find(accountId: string, id: string): Promise<EndpointRow | undefined> {
      const [row] = await db.select().from(webhookEndpoints).where(owned(accountId, id));
      return row;
    },
    async update(accountId: string, id: string, patch: Partial<Pick<EndpointRow, 'url' | 'eventTypes' | 'description' | 'enabled'>>) {
      const [row] = await db.update(webhookEndpoints).set(patch).where(owned(accountId, id)).returning();
      return row as EndpointRow | undefined;
    },
    async remove(accountId: string, id: string): Promise<boolean> {
      const rows = await db.update(webhookEndpoints).set({ deletedAt: new Date(), enabled: false }).where(owned(accountId, id)).returning({ id: webhookEndpoints.id });
      return rows.length > 0;
    },
    /** A new secret; the current one keeps signing (next to it) until `graceSeconds` from now. */
    async rotateSecret(accountId: string, id: string, graceSeconds: number) {
      const [row] = await db
        .update(webhookEndpoints)
        .set({
          previousSecret: sql`${webhookEndpoints.secret}`,
          previousSecretExpiresAt: new Date(Date.now() + graceSeconds * 1000),
          secret: newWebhookSecret(),
        })
        .where(owned(accountId, id))
        .returning();
      return row as EndpointRow | undefined;
    },

    async deliveries(endpointId: string, page: { limit: number; cursor?: string; status?: DeliveryStatus }) {
      const after = page.cursor ? decodeCursor(page.cursor) : undefined;
      const rows = await db
        .select({ delivery: webhookDeliveries, event: webhookEvents, createdAtMicros })
        .from(webhookDeliveries)
        .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
        .where(
          and(
            eq(webhookDeliveries.endpointId, endpointId),
            page.status ? eq(webhookDeliveries.status, page.status) : undefined,
            after ? sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (${after.createdAtMicros}::timestamptz, ${after.id}::uuid)` : undefined,
          ),
        )
        .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
        .limit(page.limit + 1);
      const more = rows.length > page.limit;
      const shown = more ? rows.slice(0, page.limit) : rows;
      const last = shown.at(-1);
      return {
        data: shown,
        nextCursor: more && last ? Buffer.from(`${last.createdAtMicros}|${last.delivery.id}`).toString('base64url') : null,
      };
    },
    async delivery(endpointId: string, deliveryId: string) {
      const [row] = await db
        .select({ delivery: webhookDeliveries, event: webhookEvents })
        .from(webhookDeliveries)
        .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)));
      return row;
    },
    attempts: (deliveryId: string) => db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, deliveryId)).orderBy(webhookAttempts.id),
    /** Starts a delivery over: pending now, its attempt count from zero (earlier attempts stay recorded). */
    async replay(endpointId: string, deliveryId: string) {
      const [row] = await db
        .update(webhookDeliveries)
        .set({ status: 'pending', attempts: 0, nextAttemptAt: new Date(), deadAt: null })
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)))
        .returning();
      return row;
    },
  };
}

export type WebhookRepository = ReturnType<typeof createWebhookRepository>;
