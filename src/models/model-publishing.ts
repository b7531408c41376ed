// Publishing a model: an uploaded archive (or an operator's local folder) is validated, stored by
// weights sha256, registered, and published on chain as a compute-only Ocean asset.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { GatewayOcean } from '../ocean/gateway-ocean.js';
import { RuntimeError } from '../runtime/index.js';
import { createModelRepository, type ModelRow } from './model-repository.js';
import { registerModel } from './model-registration.js';
import { models } from './models-schema.js';

export interface PublishInput {
  id: string;
  name?: string;
  pricePerJob: bigint;
  pricePer1kTokens: bigint;
  ownerAccountId: string | null;
  /** Datatoken price in OCEAN on a fixed-rate exchange; absent = free through a dispenser. */
  oceanPrice?: string;
}

/** Unpacks a .tar.gz into a fresh folder; entries may not escape it (node-tar strips `..` and `/`). */
export async function unpackModelArchive(archive: Buffer, dataDir: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const root = join(dataDir, 'uploads', randomBytes(8).toString('hex'));
  await mkdir(root, { recursive: true });
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    await pipeline(Readable.from(archive), extract({ cwd: root, strict: true }));
  } catch (err) {
    await cleanup();
    throw new AppError('invalid_request', `the body is not a readable .tar.gz archive: ${(err as Error).message}`, { field: 'body' });
  }
  // Accept both a folder's contents and a single top-level folder.
  const entries = await readdir(root);
  const dir = entries.length === 1 && (await stat(join(root, entries[0]))).isDirectory() ? join(root, entries[0]) : root;
  return { dir, cleanup };
}

export async function publishModelFolder(
  deps: { db: Db; dataDir: string; ocean: GatewayOcean | null },
  sourceDir: string,
  input: PublishInput,
): Promise<ModelRow> {
  const existing = await createModelRepository(deps.db).find(input.id);
  if (existing) throw new AppError('conflict', `a model with id "${input.id}" exists already`, { field: 'id' });
  let row: ModelRow;
  const { oceanPrice, ...registration } = input;
  try {
    row = await registerModel(deps.db, deps.dataDir, { ...registration, sourceDir });
  } catch (err) {
    if (err instanceof RuntimeError) throw new AppError('invalid_request', `not a usable model folder: ${err.message}`, { field: 'body' });
    throw err;
  }
  if (oceanPrice) {
    [row] = await deps.db.update(models).set({ oceanPrice }).where(eq(models.id, row.id)).returning();
  }
  if (!deps.ocean) return row;
  const published = await deps.ocean.ensurePublished(deps.db, row);
  void deps.ocean.warm(published).catch(() => {});
  return published;
}
