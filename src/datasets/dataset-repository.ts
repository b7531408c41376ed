// Reads and writes dataset rows. "Visible" to an account: not deleted, and its own or listed; an
// invisible dataset is indistinguishable from a missing one.
import { and, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { datasets } from './datasets-schema.js';

export type DatasetRow = typeof datasets.$inferSelect;
export type NewDataset = typeof datasets.$inferInsert;

/** created_at to the microsecond (a JS Date keeps milliseconds: a cursor cut to them would skip rows). */
const createdAtMicros = sql<string>`to_char(${datasets.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function encodeCursor(createdAt: string, id: string) {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

/** Only the exact shape encodeCursor writes; anything else is a 400 naming the cursor. */
export function decodeDatasetCursor(cursor: string) {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})(\d{3})Z\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(text);
  const millis = match ? `${match[1]}Z` : '';
  const date = new Date(millis || Number.NaN);
  if (!match || encodeCursor(`${match[1]}${match[2]}Z`, match[3]) !== cursor || Number.isNaN(date.getTime()) || date.toISOString() !== millis) {
    throw new AppError('validation_failed', 'cursor is not one this API returned', { field: 'querystring.cursor' });
  }
  return { createdAtMicros: `${match[1]}${match[2]}Z`, id: match[3] };
}

const visibleTo = (accountId: string) =>
  and(isNull(datasets.deletedAt), or(eq(datasets.ownerAccountId, accountId), eq(datasets.listed, true)));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string) => UUID.test(id);

export function createDatasetRepository(db: DbOrTx) {
  return {
    async insert(row: NewDataset): Promise<DatasetRow> {
      const [inserted] = await db.insert(datasets).values(row).returning();
      return inserted;
    },

    async findVisible(accountId: string, id: string): Promise<DatasetRow | undefined> {
      if (!isUuid(id)) return undefined;
      const [row] = await db
        .select()
        .from(datasets)
        .where(and(eq(datasets.id, id), visibleTo(accountId)));
      return row;
    },

    /** Rows by id, deleted or not, in no particular order (callers decide what is usable). */
    async findMany(ids: string[]): Promise<DatasetRow[]> {
      const valid = [...new Set(ids.filter(isUuid))];
      if (valid.length === 0) return [];
      return db.select().from(datasets).where(inArray(datasets.id, valid));
    },

    /** The account's own datasets and every listed one, newest first. */
    async listVisible(accountId: string, page: { limit: number; cursor?: string }) {
      const after = page.cursor ? decodeDatasetCursor(page.cursor) : undefined;
      const rows = await db
        .select({ dataset: datasets, createdAtMicros })
        .from(datasets)
        .where(
          and(
            visibleTo(accountId),
            after ? sql`(${datasets.createdAt}, ${datasets.id}) < (${after.createdAtMicros}::timestamptz, ${after.id}::uuid)` : undefined,
          ),
        )
        .orderBy(desc(datasets.createdAt), desc(datasets.id))
        .limit(page.limit + 1);
      const more = rows.length > page.limit;
      const shown = more ? rows.slice(0, page.limit) : rows;
      const last = shown[shown.length - 1];
      return { data: shown.map((r) => r.dataset), nextCursor: more ? encodeCursor(last.createdAtMicros, last.dataset.id) : null };
    },

    /** Marks the owner's dataset deleted; undefined when it is not theirs or already deleted. */
    async markDeleted(accountId: string, id: string): Promise<DatasetRow | undefined> {
      if (!isUuid(id)) return undefined;
      const [row] = await db
        .update(datasets)
        .set({ deletedAt: new Date() })
        .where(and(eq(datasets.id, id), eq(datasets.ownerAccountId, accountId), isNull(datasets.deletedAt)))
        .returning();
      return row;
    },

    /**
     * The owner's live dataset, locked until the transaction ends (publishing holds it, so two
     * publishes of one dataset, or a publish and a delete, take turns); undefined when not theirs.
     */
    async lockOwned(accountId: string, id: string): Promise<DatasetRow | undefined> {
      if (!isUuid(id)) return undefined;
      const [row] = await db
        .select()
        .from(datasets)
        .where(and(eq(datasets.id, id), eq(datasets.ownerAccountId, accountId), isNull(datasets.deletedAt)))
        .for('update');
      return row;
    },

    /** Records the Ocean asset a dataset was published as. */
    async recordPublished(
      id: string,
      asset: { chainId: number; did: string; nftAddress: string; datatokenAddress: string; txHashes: Record<string, string> },
    ): Promise<DatasetRow> {
      const [row] = await db
        .update(datasets)
        .set({
          chainId: asset.chainId,
          did: asset.did,
          nftAddress: asset.nftAddress,
          datatokenAddress: asset.datatokenAddress,
          publishTxHashes: asset.txHashes,
          publishedAt: new Date(),
        })
        .where(eq(datasets.id, id))
        .returning();
      return row;
    },

    /** Rows not deleted that hold this content. */
    async countLive(sha256: string): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(datasets)
        .where(and(eq(datasets.sha256, sha256), isNull(datasets.deletedAt)));
      return row.n;
    },
  };
}

/**
 * Serialises writers of one content hash (an upload storing it, a delete removing it) for the rest
 * of the transaction, so a file is never removed while a new row comes to point at it.
 */
export async function lockDatasetContent(tx: Tx, sha256: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`dataset:${sha256}`}, 0))`);
}

export type DatasetRepository = ReturnType<typeof createDatasetRepository>;
