// Registers a model folder: validate, store by weights hash, record it in the registry.
import type { DbOrTx } from '../db/database.js';
import { buildTinyModel } from '../runtime/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModelRepository, type ModelRow, type NewModel } from './model-repository.js';
import { type CheckedModel, storeModelFolder } from './model-store.js';

export interface RegisterModelInput {
  id: string;
  name?: string;
  sourceDir: string;
  taskKinds?: string[];
  pricePerJob: bigint;
  pricePer1kTokens: bigint;
  ownerAccountId?: string | null;
  /** The model it was fine-tuned from; its owner and ancestors' owners earn royalties on its jobs. */
  parentModelId?: string | null;
  /** Lineage royalty (basis points, 0..2000) this model's owner earns on every model derived from it. */
  royaltyBps?: number;
}

/** The registry row for a checked folder stored at `storagePath`. */
export function modelRowFor(checked: CheckedModel, storagePath: string, input: Omit<RegisterModelInput, 'sourceDir'>): NewModel {
  const { config } = checked.model;
  return {
    id: input.id,
    name: input.name ?? input.id,
    taskKinds: input.taskKinds ?? ['infer', 'evaluate'],
    weightsSha256: checked.model.weightsSha256,
    storagePath,
    contextLength: config.nPositions,
    architecture: {
      model_type: 'gpt2',
      n_layer: config.nLayer,
      n_head: config.nHead,
      n_embd: config.nEmbd,
      vocab_size: config.vocabSize,
      size_bytes: checked.model.sizeBytes,
    },
    pricePerJob: input.pricePerJob,
    pricePer1kTokens: input.pricePer1kTokens,
    ownerAccountId: input.ownerAccountId ?? null,
    parentModelId: input.parentModelId ?? null,
    royaltyBps: input.royaltyBps ?? 0,
  };
}

/** Operator registration (default model, `model:add`): stores the folder and upserts its row. */
export async function registerModel(db: DbOrTx, dataDir: string, input: RegisterModelInput): Promise<ModelRow> {
  const stored = await storeModelFolder(input.sourceDir, dataDir);
  return createModelRepository(db).upsert(modelRowFor(stored, stored.path, input));
}

export const DEFAULT_MODEL_ID = 'tiny-gpt2';
/** 0.001 credit per job plus 0.002 credit per 1,000 tokens (input and output). */
export const DEFAULT_MODEL_PRICES = { pricePerJob: 1_000n, pricePer1kTokens: 2_000n };

/**
 * The English default model shipped in the repository (`npm run model:train-default` made it with the
 * project's own trainer); a checkout without it falls back to the seeded random tiny model.
 */
export const BUNDLED_DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../models/default', import.meta.url));

/** The embedded default model: the bundled English model (or a seeded tiny one), registered on first start. */
export async function ensureDefaultModel(db: DbOrTx, dataDir: string): Promise<ModelRow> {
  const existing = await createModelRepository(db).find(DEFAULT_MODEL_ID);
  if (existing && existsSync(existing.storagePath)) return existing;
  if (existsSync(join(BUNDLED_DEFAULT_MODEL_DIR, 'config.json'))) {
    return registerModel(db, dataDir, {
      id: DEFAULT_MODEL_ID,
      name: 'Tiny GPT-2 trained on English (State of the Union addresses)',
      sourceDir: BUNDLED_DEFAULT_MODEL_DIR,
      ...DEFAULT_MODEL_PRICES,
    });
  }
  const sourceDir = join(dataDir, 'models', DEFAULT_MODEL_ID);
  if (!existsSync(join(sourceDir, 'config.json'))) await buildTinyModel(sourceDir);
  return registerModel(db, dataDir, {
    id: DEFAULT_MODEL_ID,
    name: 'Tiny GPT-2 (2 layers, width 64, seeded)',
    sourceDir,
    ...DEFAULT_MODEL_PRICES,
  });
}
