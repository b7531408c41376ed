// Datasets that never leave: content stored by sha256 under <dataDir>/datasets, metadata in Postgres.
// Nothing here returns content to a caller; only workers read it back (readDatasetDocuments), and only
// after checking the bytes still hash to the recorded sha256.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { DatasetContentError, decodeDatasetText, parseDatasetDocuments } from './dataset-content.js';
import { countDatasetTokens } from './dataset-tokens.js';
import { type DatasetFormat, datasets } from './datasets-schema.js';

export type DatasetRow = typeof datasets.$inferSelect;

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function datasetContentPath(dataDir: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
  return join(dataDir, 'datasets', sha256);
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Writes the bytes under their sha256 (temp file + rename: a half-written file is never visible). */
async function storeContent(dataDir: string, bytes: Uint8Array, sha256: string): Promise<void> {
  const target = datasetContentPath(dataDir, sha256);
  if (await exists(target)) return;
  await mkdir(join(dataDir, 'datasets'), { recursive: true });
  const temp = `${target}.incoming-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
}

export interface NewDatasetInput {
  ownerAccountId: string;
  name: string;
  description?: string;
  format: DatasetFormat;
  bytes: Uint8Array;
  pricePerJob: bigint;
  listed: boolean;
  maxDocuments: number;
}

/** Parses (refusing anything but UTF-8 training text), hashes, stores and records one upload. */
export async function createDataset(db: Db, dataDir: string, input: NewDatasetInput): Promise<DatasetRow> {
  if (input.bytes.length === 0) throw new AppError('validation_failed', 'the dataset is empty', { field: 'body' });
  let documents: string[];
  try {
    documents = parseDatasetDocuments(input.bytes, input.format, { maxDocuments: input.maxDocuments });
  } catch (err) {
    if (err instanceof DatasetContentError) throw new AppError('validation_failed', err.message, { field: 'body' });
    throw err;
  }
  if (documents.length === 0) throw new AppError('validation_failed', 'the dataset holds no text', { field: 'body' });
  const sha256 = createHash('sha256').update(input.bytes).digest('hex');
  const tokens = await countDatasetTokens(documents);
  await storeContent(dataDir, input.bytes, sha256);
  const [row] = await db
    .insert(datasets)
    .values({
      ownerAccountId: input.ownerAccountId,
      name: input.name,
      description: input.description ?? null,
      format: input.format,
      sha256,
      bytes: input.bytes.length,
      documents: documents.length,
      tokens,
      pricePerJob: input.pricePerJob,
      listed: input.listed,
    })
    .returning();
  return row;
}

/** Rows an account may see and use: its own, and listed ones; deleted ones never. */
const usableBy = (accountId: string) => and(isNull(datasets.deletedAt), or(eq(datasets.ownerAccountId, accountId), eq(datasets.listed, true)));

export async function listDatasets(db: DbOrTx, accountId: string, limit: number): Promise<DatasetRow[]> {
  return db.select().from(datasets).where(usableBy(accountId)).orderBy(desc(datasets.createdAt), desc(datasets.id)).limit(limit);
}

/** One dataset the account may see; an unlisted one of another account is indistinguishable from none. */
export async function findDataset(db: DbOrTx, accountId: string, id: string): Promise<DatasetRow | undefined> {
  const [row] = await db
    .select()
    .from(datasets)
    .where(and(eq(datasets.id, id), usableBy(accountId)));
  return row;
}

export interface QuotedDataset {
  id: string;
  ownerAccountId: string;
  sha256: string;
  format: DatasetFormat;
  pricePerJob: bigint;
  tokens: number | null;
}

/**
 * At submission: every id must be usable by the account (its own or listed, not deleted); returns
 * them in the order asked. The first that is not is a 404 naming `datasets[i]`.
 */
export async function quoteDatasets(db: DbOrTx, accountId: string, ids: string[]): Promise<QuotedDataset[]> {
  const rows = ids.length ? await db.select().from(datasets).where(and(inArray(datasets.id, ids), usableBy(accountId))) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id, i) => {
    const r = byId.get(id);
    if (!r) throw new AppError('not_found', `dataset ${id} not found`, { field: `body.datasets[${i}]` });
    return { id: r.id, ownerAccountId: r.ownerAccountId, sha256: r.sha256, format: r.format, pricePerJob: r.pricePerJob, tokens: r.tokens };
  });
}

/** On a worker: the stored documents, after checking the bytes still hash to `sha256` (else it throws). */
export async function readDatasetDocuments(dataDir: string, dataset: { sha256: string; format: DatasetFormat }): Promise<string[]> {
  const bytes = await readFile(datasetContentPath(dataDir, dataset.sha256));
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== dataset.sha256) throw new Error(`dataset content hashes to ${actual}, not the recorded ${dataset.sha256}`);
  decodeDatasetText(bytes);
  return parseDatasetDocuments(bytes, dataset.format);
}

/**
 * The owner's delete: no new job may use it. Jobs already accepted keep their sha256 and still read
 * the content; the file goes once no live row and no unfinished job refers to it.
 */
export async function deleteDataset(db: Db, dataDir: string, accountId: string, id: string): Promise<DatasetRow | undefined> {
  const [row] = await db
    .update(datasets)
    .set({ deletedAt: new Date() })
    .where(and(eq(datasets.id, id), eq(datasets.ownerAccountId, accountId), isNull(datasets.deletedAt)))
    .returning();
  if (!row) return undefined;
  const result = (await db.execute(sql`
    SELECT (SELECT count(*) FROM datasets WHERE sha256 = ${row.sha256} AND deleted_at IS NULL)
         + (SELECT count(*) FROM jobs WHERE kind = 'finetune' AND status IN ('queued', 'running')
              AND request->'datasets' @> ${JSON.stringify([{ sha256: row.sha256 }])}::jsonb) AS live`)) as unknown as { rows: { live: string | number }[] };
  const live = result.rows[0]?.live ?? 1;
  if (Number(live) === 0) await rm(datasetContentPath(dataDir, row.sha256), { force: true });
  return row;
}
