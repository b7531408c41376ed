// Stripe-style idempotency: the same key and body replay the first answer; another body is a 422.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../receipts/canonical-json.js';
import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { idempotencyRecords } from './idempotency-schema.js';

export interface StoredAnswer<T> {
  status: number;
  body: T;
  replayed: boolean;
}

export function requestFingerprint(method: string, route: string, body: unknown): string {
  const text = `${method} ${route}\n${canonicalJson(body ?? null)}`;
  return createHash('sha256').update(text).digest('hex');
}

/** Makes a value storable as JSON: bigints become decimal strings (the response schema prints integers). */
function toJsonValue(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}

/**
 * Runs `run` once per (scope, key). The answer is stored in the same transaction as the work, so a
 * failed attempt leaves nothing behind and may be retried; concurrent retries wait on an advisory
 * lock and then replay. Without a key, `run` simply executes in a transaction.
 */
export async function withIdempotency<T>(
  db: Db,
  input: { scope: string; key: string | undefined; fingerprint: string },
  run: (tx: Tx) => Promise<{ status: number; body: T }>,
): Promise<StoredAnswer<T>> {
  return db.transaction(async (tx) => {
    if (input.key === undefined) return { ...(await run(tx)), replayed: false };
    const lockKey = `${input.scope}\n${input.key}`;
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`);
    const [existing] = await tx
      .select()
      .from(idempotencyRecords)
      .where(and(eq(idempotencyRecords.scope, input.scope), eq(idempotencyRecords.key, input.key)));
    if (existing) {
      if (existing.requestHash !== input.fingerprint) {
        throw new AppError(
          'idempotency_key_reused',
          'this Idempotency-Key was used with a different request; use a new key',
          { field: 'headers.idempotency-key' },
        );
      }
      return { status: existing.statusCode, body: existing.response as T, replayed: true };
    }
    const answer = await run(tx);
    await tx.insert(idempotencyRecords).values({
      scope: input.scope,
      key: input.key,
      requestHash: input.fingerprint,
      statusCode: answer.status,
      response: toJsonValue(answer.body),
    });
    return { ...answer, replayed: false };
  });
}
