// Chooses where a model's jobs run: the marketplace's own workers (the default), or an external Ocean
// compute node paid through Escrow. Only the marketplace's own models (registered by the operator, no
// owner account) may go to a node: an owner-uploaded model is proprietary, and its weights never
// leave the marketplace's workers.
import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { AppError, notFound } from '../errors/app-error.js';
import type { ModelRow } from './model-repository.js';
import { models } from './models-schema.js';

export type ComputeBackendChoice = { backend: 'marketplace' } | { backend: 'ocean-node'; nodeUrl: string };

/** An open model: the operator's own, with no owner account whose weights would leave the marketplace. */
export const isOpenModel = (model: Pick<ModelRow, 'ownerAccountId'>) => model.ownerAccountId === null;

function nodeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('validation_failed', `"${raw}" is not a URL`, { field: 'nodeUrl' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError('validation_failed', 'the node URL must be http(s)', { field: 'nodeUrl' });
  if (url.username || url.password || url.search || url.hash) throw new AppError('validation_failed', 'the node URL takes no credentials, query or fragment', { field: 'nodeUrl' });
  return url.toString().replace(/\/+$/, '');
}

export async function setComputeBackend(db: DbOrTx, modelId: string, choice: ComputeBackendChoice): Promise<ModelRow> {
  const [model] = await db.select().from(models).where(eq(models.id, modelId));
  if (!model) throw notFound(`model "${modelId}"`);
  if (choice.backend === 'ocean-node' && !isOpenModel(model)) {
    throw new AppError('forbidden', `model "${modelId}" belongs to an account: its weights never leave the marketplace's workers, so no Ocean compute node may serve it`);
  }
  const url = choice.backend === 'ocean-node' ? nodeUrl(choice.nodeUrl) : null;
  const [row] = await db.update(models).set({ computeBackend: choice.backend, computeNodeUrl: url }).where(eq(models.id, modelId)).returning();
  return row;
}
