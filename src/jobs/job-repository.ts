// Reads and writes job rows; state changes are conditional on the current status, so racing
// workers, retries and cancels cannot both win.
import { and, desc, eq, inArray, isNotNull, isNull, lt, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { jobs, type JobStatus } from './jobs-schema.js';

export type JobRow = typeof jobs.$inferSelect;
export type NewJob = typeof jobs.$inferInsert;

export const FINAL_STATUSES: JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/**
 * created_at to the microsecond, as Postgres keeps it: a JS Date keeps only milliseconds, and a
 * cursor cut to them would skip the rows later in the same millisecond.
 */
const createdAtMicros = sql<string>`to_char(${jobs.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function encodeCursor(row: { createdAtMicros: string; id: string }) {
  return Buffer.from(`${row.createdAtMicros}|${row.id}`).toString('base64url');
}

/**
 * Only the exact shape encodeCursor writes: a UTC time to the microsecond (or the millisecond, as
 * earlier cursors held) that round-trips, a UUID, nothing after. Anything else is a 400.
 */
export function decodeCursor(cursor: string) {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})(\d{3})?Z\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(text);
  const millis = match ? `${match[1]}Z` : '';
  const createdAt = new Date(millis || Number.NaN);
  const canonical = Buffer.from(text).toString('base64url') === cursor;
  if (!match || !canonical || Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== millis) {
    throw new AppError('validation_failed', 'cursor is not one this API returned', { field: 'querystring.cursor' });
  }
  return { createdAtMicros: `${match[1]}${match[2] ?? '000'}Z`, id: match[3] };
}

export function createJobRepository(db: DbOrTx) {
  return {
    async insert(job: NewJob): Promise<JobRow> {
      const [row] = await db.insert(jobs).values(job).returning();
      return row;
    },

    async find(id: string): Promise<JobRow | undefined> {
      const [row] = await db.select().from(jobs).where(eq(jobs.id, id));
      return row;
    },

    /** A job of this account; another account's job is indistinguishable from a missing one. */
    async findOwned(accountId: string, id: string): Promise<JobRow | undefined> {
      const [row] = await db.select().from(jobs).where(and(eq(jobs.id, id), eq(jobs.accountId, accountId)));
      return row;
    },

    async listOwned(accountId: string, page: { limit: number; cursor?: string }) {
      const after = page.cursor ? decodeCursor(page.cursor) : undefined;
      const rows = await db
        .select({ job: jobs, createdAtMicros })
        .from(jobs)
        .where(
          and(
            eq(jobs.accountId, accountId),
            after ? sql`(${jobs.createdAt}, ${jobs.id}) < (${after.createdAtMicros}::timestamptz, ${after.id}::uuid)` : undefined,
          ),
        )
        .orderBy(desc(jobs.createdAt), desc(jobs.id))
        .limit(page.limit + 1);
      const more = rows.length > page.limit;
      const shown = more ? rows.slice(0, page.limit) : rows;
      const last = shown[shown.length - 1];
      return {
        data: shown.map((r) => r.job),
        nextCursor: more ? encodeCursor({ createdAtMicros: last.createdAtMicros, id: last.job.id }) : null,
      };
    },

    /** Claims a queued (or crashed running) job for an attempt; undefined if it is already final. */
    async markRunning(id: string, workerId: string): Promise<JobRow | undefined> {
      const [row] = await db
        .update(jobs)
        .set({ status: 'running', workerId, attempts: sql`${jobs.attempts} + 1`, startedAt: new Date() })
        .where(and(eq(jobs.id, id), inArray(jobs.status, ['queued', 'running'])))
        .returning();
      return row;
    },

    /** A running job's latest progress (fine-tuning), shown by GET /v1/jobs/{id}. */
    async setProgress(id: string, progress: Record<string, unknown>): Promise<void> {
      await db.update(jobs).set({ progress }).where(and(eq(jobs.id, id), eq(jobs.status, 'running')));
    },

    async finish(
      id: string,
      from: JobStatus[],
      patch: Partial<Pick<JobRow, 'status' | 'result' | 'error' | 'outputTokens' | 'cost' | 'computeMs'>>,
    ): Promise<JobRow | undefined> {
      const [row] = await db
        .update(jobs)
        .set({ ...patch, finishedAt: new Date() })
        .where(and(eq(jobs.id, id), inArray(jobs.status, from)))
        .returning();
      return row;
    },

    async requestCancel(id: string): Promise<void> {
      await db.update(jobs).set({ cancelRequestedAt: new Date() }).where(eq(jobs.id, id));
    },

    /**
     * Unfinished jobs older than `olderThanMs`, for re-enqueueing after a queue loss. With
     * `ordered`, only jobs that already carry their Ocean order (true) or still lack one (false).
     */
    async listUnfinished(olderThanMs: number, ordered?: boolean, limit = 500): Promise<Pick<JobRow, 'id' | 'kind'>[]> {
      return db
        .select({ id: jobs.id, kind: jobs.kind })
        .from(jobs)
        .where(
          and(
            inArray(jobs.status, ordered === false ? ['queued'] : ['queued', 'running']),
            lt(jobs.createdAt, new Date(Date.now() - olderThanMs)),
            ordered === undefined ? undefined : ordered ? isNotNull(jobs.orderTxHash) : isNull(jobs.orderTxHash),
          ),
        )
        .limit(limit);
    },

    /** Unfinished jobs with what the watchdog needs to compare them with the queue, oldest first. */
    async listUnfinishedForWatchdog(limit = 500) {
      return db
        .select({
          id: jobs.id,
          kind: jobs.kind,
          status: jobs.status,
          workerId: jobs.workerId,
          attempts: jobs.attempts,
          orderTxHash: jobs.orderTxHash,
          cancelRequestedAt: jobs.cancelRequestedAt,
        })
        .from(jobs)
        // Jobs of models served by an Ocean compute node are the gateway's (ocean-node-queue.ts), never a worker's.
        .where(and(inArray(jobs.status, ['queued', 'running']), sql`${jobs.modelId} NOT IN (SELECT id FROM models WHERE compute_backend = 'ocean-node')`))
        .orderBy(jobs.createdAt)
        .limit(limit);
    },

    /** How many jobs other than `id` carry one of these order transactions (an order's real use count). */
    async countOtherJobsOnOrders(txHashes: string[], id: string): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(jobs)
        .where(and(inArray(jobs.orderTxHash, txHashes), ne(jobs.id, id)));
      return row?.n ?? 0;
    },

    /** Attaches the order paying for a job, once. */
    async attachOrder(id: string, txHash: string, chainId: number, blockHash?: string): Promise<JobRow | undefined> {
      const [row] = await db
        .update(jobs)
        .set({ orderTxHash: txHash, orderChainId: chainId, orderBlockHash: blockHash ?? null })
        .where(and(eq(jobs.id, id), isNull(jobs.orderTxHash)))
        .returning();
      return row;
    },

  };
}

export type JobRepository = ReturnType<typeof createJobRepository>;
