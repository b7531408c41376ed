// Publishing a model: an uploaded archive (or an operator's local folder) is validated in a bounded
// process, its id reserved atomically with the registry row, its kept files stored by hash, and the
// model published on chain as a compute-only Ocean asset.
import type { Db } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { GatewayOcean } from '../ocean/gateway-ocean.js';
import { RuntimeError } from '../runtime/index.js';
import { createModelRepository, type ModelRow } from './model-repository.js';
import { modelRowFor } from './model-registration.js';
import { type CheckedModel, checkModelFolder, placeModelFolder, storePathFor } from './model-store.js';

export { unpackModelArchive } from './archive-extractor.js';

export interface PublishInput {
  id: string;
  name?: string;
  pricePerJob: bigint;
  pricePer1kTokens: bigint;
  ownerAccountId: string | null;
  /** Lineage royalty (basis points, 0..2000) on every model later derived from this one; default 0. */
  royaltyBps?: number;
  /** Datatoken price in OCEAN on a fixed-rate exchange; absent = free through a dispenser. */
  oceanPrice?: string;
}

const modelExists = (id: string) =>
  new AppError('model_exists', `a model with id "${id}" exists already; ids are never reused or replaced`, { field: 'id' });

export async function publishModelFolder(
  deps: { db: Db; dataDir: string; ocean: GatewayOcean | null },
  sourceDir: string,
  input: PublishInput,
): Promise<ModelRow> {
  // A fast answer before the costly validation; the insert below is what actually decides.
  if (await createModelRepository(deps.db).find(input.id)) throw modelExists(input.id);
  let checked: CheckedModel;
  try {
    checked = await checkModelFolder(sourceDir);
  } catch (err) {
    if (err instanceof RuntimeError) throw new AppError('model_rejected', `not a usable model folder: ${err.message}`, { field: 'body' });
    throw err;
  }
  const { oceanPrice, ...registration } = input;
  // The row is inserted first (a concurrent upload of the same id waits on it, then gets nothing),
  // and the files are stored inside the same transaction, so a refused id stores nothing.
  const row = await deps.db.transaction(async (tx) => {
    const inserted = await createModelRepository(tx).insertNew({
      ...modelRowFor(checked, storePathFor(deps.dataDir, checked), registration),
      oceanPrice: oceanPrice ?? null,
    });
    if (!inserted) throw modelExists(input.id);
    await placeModelFolder(checked, deps.dataDir);
    return inserted;
  });
  if (!deps.ocean) return row;
  let published: ModelRow;
  try {
    published = await deps.ocean.ensurePublished(deps.db, row);
  } catch (err) {
    // Not an asset, so not a model: free the id so the same upload can be sent again (the stored
    // files are content-addressed and stay for it).
    await createModelRepository(deps.db).deleteUnpublished(row.id);
    throw err;
  }
  void deps.ocean.warm(published).catch(() => {});
  return published;
}
