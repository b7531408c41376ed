// Datasets for fine-tuning: upload (parse, count, store by sha256, register), the views an account
// may have, delete, publish as a compute-only Ocean asset, and the two calls the fine-tune path makes: quoteDatasets when a job is
// submitted (gateway) and readDatasetDocuments when it runs (worker). No call returns content
// except readDatasetDocuments, which only the worker uses.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { jobs } from '../jobs/jobs-schema.js';
import type { GatewayOcean } from '../ocean/gateway-ocean.js';
import { DatasetContentError, parseDatasetDocuments } from './dataset-content.js';
import { createDatasetRepository, type DatasetRow, lockDatasetContent } from './dataset-repository.js';
import { readDatasetBytes, removeDatasetBytes, sha256Hex, storeDatasetBytes } from './dataset-store.js';
import { countDatasetTokens } from './dataset-tokens.js';
import type { DatasetFormat } from './datasets-schema.js';

export { DatasetIntegrityError } from './dataset-store.js';

export interface DatasetUpload {
  ownerAccountId: string;
  name: string;
  description?: string;
  pricePerJob: bigint;
  listed: boolean;
  format: DatasetFormat;
  bytes: Uint8Array;
  /** More documents than this is refused (413). */
  maxDocuments: number;
}

/** What a fine-tune job needs to know of each dataset it trains on (never the content). */
export interface DatasetQuote {
  id: string;
  ownerAccountId: string;
  sha256: string;
  format: DatasetFormat;
  pricePerJob: bigint;
  tokens: number | null;
  documents: number;
  bytes: number;
}

const datasetNotFound = (id: string, field?: string) =>
  new AppError('dataset_not_found', `dataset ${JSON.stringify(id.slice(0, 64))} not found`, field ? { field } : {});

/**
 * Whether anything still needs these bytes: a dataset row not deleted, or an unfinished fine-tune
 * that was accepted with them (it trains on them after the dataset's owner deleted it).
 */
async function contentInUse(tx: Tx, sha256: string): Promise<boolean> {
  if ((await createDatasetRepository(tx).countLive(sha256)) > 0) return true;
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(jobs)
    .where(
      and(
        eq(jobs.kind, 'finetune'),
        inArray(jobs.status, ['queued', 'running']),
        sql`${jobs.request}->'datasets' @> ${JSON.stringify([{ sha256 }])}::jsonb`,
      ),
    );
  return row.n > 0;
}

/** Removes a content file nothing needs any more (under the content lock, so no upload races it). */
async function removeIfUnused(db: Db, dataDir: string, sha256: string): Promise<void> {
  await db.transaction(async (tx) => {
    await lockDatasetContent(tx, sha256);
    if (!(await contentInUse(tx, sha256))) await removeDatasetBytes(dataDir, sha256);
  });
}

/** Parses and counts an upload, stores its bytes by sha256 and registers it. Refusals store nothing. */
export async function uploadDataset(deps: { db: Db; dataDir: string }, upload: DatasetUpload): Promise<DatasetRow> {
  let documents: string[];
  try {
    documents = parseDatasetDocuments(upload.bytes, upload.format, { maxDocuments: upload.maxDocuments });
  } catch (err) {
    if (!(err instanceof DatasetContentError)) throw err;
    throw new AppError(err.problem === 'too_many_documents' ? 'payload_too_large' : 'validation_failed', err.message, { field: 'body' });
  }
  const tokens = await countDatasetTokens(documents);
  const sha256 = sha256Hex(upload.bytes);
  try {
    return await deps.db.transaction(async (tx) => {
      await lockDatasetContent(tx, sha256);
      await storeDatasetBytes(deps.dataDir, upload.bytes, sha256);
      return createDatasetRepository(tx).insert({
        ownerAccountId: upload.ownerAccountId,
        name: upload.name,
        description: upload.description ?? null,
        format: upload.format,
        sha256,
        bytes: upload.bytes.byteLength,
        documents: documents.length,
        tokens,
        pricePerJob: upload.pricePerJob,
        listed: upload.listed,
      });
    });
  } catch (err) {
    // A file stored for a row that was never committed must not stay behind (unless others use it).
    await removeIfUnused(deps.db, deps.dataDir, sha256).catch(() => {});
    throw err;
  }
}

/** A dataset the account may see (its own, or listed); deleted and others' unlisted ones are 404. */
export async function getDataset(db: DbOrTx, accountId: string, id: string): Promise<DatasetRow> {
  const row = await createDatasetRepository(db).findVisible(accountId, id);
  if (!row) throw datasetNotFound(id, 'params.id');
  return row;
}

export function listDatasets(db: DbOrTx, accountId: string, page: { limit: number; cursor?: string }) {
  return createDatasetRepository(db).listVisible(accountId, page);
}

/**
 * Marks the owner's dataset deleted (no new job may use it), then removes its content file when no
 * other live row and no unfinished fine-tune holds the same bytes. Someone else's listed dataset is
 * 403; an invisible one 404.
 */
export async function deleteDataset(deps: { db: Db; dataDir: string }, accountId: string, id: string): Promise<DatasetRow> {
  const repo = createDatasetRepository(deps.db);
  const row = await repo.markDeleted(accountId, id);
  if (!row) {
    if (await repo.findVisible(accountId, id)) throw new AppError('forbidden', 'only the owner of a dataset can delete it', { field: 'params.id' });
    throw datasetNotFound(id, 'params.id');
  }
  await removeIfUnused(deps.db, deps.dataDir, row.sha256);
  return row;
}

/**
 * Publishes the owner's dataset as a compute-only Ocean asset: NFT, free datatoken, a DDO whose
 * compute service's files (encrypted to the provider) name the content by sha256, and the sha256 in
 * the NFT's ERC725 data. Nothing in it lets anyone download the content. Idempotent: a dataset
 * already published on this chain is answered as it is (`created: false`), never published twice.
 * Someone else's listed dataset is 403; an invisible or deleted one 404; no chain, 503.
 */
export async function publishDataset(
  deps: { db: Db; ocean: GatewayOcean | null },
  accountId: string,
  id: string,
): Promise<{ row: DatasetRow; created: boolean }> {
  const visible = await createDatasetRepository(deps.db).findVisible(accountId, id);
  if (!visible) throw datasetNotFound(id, 'params.id');
  if (visible.ownerAccountId !== accountId) throw new AppError('forbidden', 'only the owner of a dataset can publish it', { field: 'params.id' });
  const ocean = deps.ocean;
  if (!ocean) throw new AppError('chain_unavailable', 'this gateway runs without a chain (CHAIN=off): nothing can be published');
  return deps.db.transaction(async (tx) => {
    const repo = createDatasetRepository(tx);
    // Locked: a concurrent publish waits here and then finds the asset this one made.
    const row = await repo.lockOwned(accountId, id);
    if (!row) throw datasetNotFound(id, 'params.id'); // deleted meanwhile
    if (await ocean.isLive(row)) return { row, created: false };
    const asset = await ocean.publishDataset({ id: row.id, name: row.name, sha256: row.sha256 });
    const published = await repo.recordPublished(row.id, { ...asset, chainId: ocean.chainId });
    return { row: published, created: true };
  });
}

/**
 * At submission (gateway): checks that every id is usable by accountId (its own or listed, not
 * deleted) and returns them in the order given. An unknown or unusable id is a 404
 * `dataset_not_found` naming `fieldOf(i)`, by default `body.datasets[<i>]` (i: its index in `ids`;
 * a caller whose body mixes ids with other items passes its own positions); which of the two it was
 * is not told.
 */
export async function quoteDatasets(
  db: DbOrTx,
  accountId: string,
  ids: string[],
  fieldOf: (i: number) => string = (i) => `body.datasets[${i}]`,
): Promise<DatasetQuote[]> {
  const rows = new Map((await createDatasetRepository(db).findMany(ids)).map((r) => [r.id, r]));
  return ids.map((id, i) => {
    const row = rows.get(id.toLowerCase());
    if (!row || row.deletedAt !== null || (row.ownerAccountId !== accountId && !row.listed)) throw datasetNotFound(id, fieldOf(i));
    return {
      id: row.id,
      ownerAccountId: row.ownerAccountId,
      sha256: row.sha256,
      format: row.format,
      pricePerJob: row.pricePerJob,
      tokens: row.tokens,
      documents: row.documents,
      bytes: row.bytes,
    };
  });
}

/**
 * On the worker: reads the stored content, checks its sha256 again (a mismatch or a missing file
 * throws DatasetIntegrityError) and returns its documents' texts, as the upload counted them.
 */
export async function readDatasetDocuments(dataDir: string, dataset: { sha256: string; format: 'text' | 'jsonl' }): Promise<string[]> {
  const bytes = await readDatasetBytes(dataDir, dataset.sha256);
  return parseDatasetDocuments(bytes, dataset.format);
}
