// The gateway's side of Ocean: publishes registry models and uploaded datasets as compute-only
// assets and places orders for jobs from a pool kept ahead per model, all from the consumer/publisher
// wallets.
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/database.js';
import type { ModelRow } from '../models/model-repository.js';
import { models } from '../models/models-schema.js';
import type { OceanChainConfig } from './chain-config.js';
import type { ChainTxPolicy } from './chain-tx-policy.js';
import type { TrustedAlgorithm } from './ddo-builder.js';
import type { PublishedAsset } from './model-publisher.js';
import { createOceanClient, type OceanClient } from './ocean-client.js';
import { OceanError } from './ocean-error.js';
import { createOrderPool, type PooledOrder } from './order-pool.js';
import { createOrderPoolStore } from './order-pool-store.js';

/** Seconds an order for a model stays usable (the compute service's timeout). */
export const SERVICE_TIMEOUT_SECONDS = 3600;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The marketplace's own runtime: the only algorithm a published model allows to compute on it. */
export const RUNTIME_ALGORITHM: TrustedAlgorithm = {
  did: 'posthuman:runtime:onnxruntime-node',
  filesChecksum: sha256('onnxruntime-node@1.30'),
  containerSectionChecksum: sha256('posthuman-gateway/worker'),
};

export interface GatewayOcean {
  client: OceanClient;
  chainId: number;
  consumerAddress: string;
  /** Publishes the model unless it is already an asset on this chain; returns the updated row. */
  ensurePublished(db: DbOrTx, model: ModelRow): Promise<ModelRow>;
  /** Whether an asset recorded as published (chain id, NFT address) is an asset on this chain now. */
  isLive(asset: { chainId: number | null; nftAddress: string | null }): Promise<boolean>;
  /**
   * Publishes a dataset as a compute-only asset named by the sha256 of its bytes (a free datatoken:
   * the gateway's ledger charges for its use). The caller records the answer and guards repeats.
   */
  publishDataset(dataset: { id: string; name: string; sha256: string }): Promise<PublishedAsset>;
  /** An order paying for one job of this model (from the pool when one is ready). */
  orderFor(model: ModelRow): Promise<PooledOrder>;
  /** Fills the model's order pool; resolves when it is full (callers may leave it running). */
  warm(model: ModelRow): Promise<void>;
  close(): Promise<void>;
}

function target(model: ModelRow) {
  if (!model.datatokenAddress || !model.serviceId) {
    throw new OceanError('invalid_argument', `model "${model.id}" is not published on chain`);
  }
  return { datatokenAddress: model.datatokenAddress, serviceId: model.serviceId, serviceIndex: 0 };
}

export interface GatewayOceanOptions {
  poolSize: number;
  /** Orders placed at once to refill the pool (default 2). */
  refillConcurrency?: number;
  log: FastifyBaseLogger;
  /** Where orders placed ahead are recorded, so a restart reuses them; absent = memory only. */
  db?: Db;
  /** The chain's confirmations and fee rules; default: the chain's own. */
  txPolicy?: ChainTxPolicy;
}

export function createGatewayOcean(config: OceanChainConfig, options: GatewayOceanOptions): GatewayOcean {
  const client = createOceanClient(config, options.txPolicy ? { txPolicy: options.txPolicy } : {});
  const pool = createOrderPool({
    orders: client.orders,
    targetSize: options.poolSize,
    refillConcurrency: options.refillConcurrency,
    onRefillError: (err, t) => options.log.warn({ err, datatoken: t.datatokenAddress }, 'order pool refill failed; retrying'),
    ...(options.db ? { store: createOrderPoolStore(options.db, { chainId: config.chainId, consumer: client.consumerAddress }) } : {}),
    onStoreError: (err) => options.log.warn({ err }, 'recording the order pool in Postgres failed; the pool goes on in memory'),
  });

  async function isLive(asset: { chainId: number | null; nftAddress: string | null }): Promise<boolean> {
    if (!asset.nftAddress || asset.chainId !== config.chainId) return false;
    // An embedded chain starts fresh each time: an NFT address without code is from an old chain.
    return (await client.provider.getCode(asset.nftAddress)) !== '0x';
  }

  return {
    client,
    chainId: config.chainId,
    consumerAddress: client.consumerAddress,
    async ensurePublished(db, model) {
      if (await isLive(model)) return model;
      // A derived model names its parent asset; the parent must be on this chain first.
      let parent: { did: string; nftAddress: string; weightsSha256: string } | undefined;
      if (model.parentModelId) {
        const [row] = await db.select().from(models).where(eq(models.id, model.parentModelId));
        if (!row?.did || !row.nftAddress || row.chainId !== config.chainId) {
          throw new OceanError('invalid_argument', `the parent of "${model.id}" ("${model.parentModelId}") is not published on chain ${config.chainId} yet`);
        }
        parent = { did: row.did, nftAddress: row.nftAddress, weightsSha256: row.weightsSha256 };
      }
      const published = await client.models.publishModel({
        ...(parent ? { parent } : {}),
        name: model.name,
        symbol: model.id.slice(0, 8).toUpperCase().replace(/[^A-Z0-9]/g, 'X'),
        description: `Posthuman Gateway model ${model.id}; weights sha256 ${model.weightsSha256}`,
        weightsSha256: model.weightsSha256,
        pricing: model.oceanPrice ? { type: 'fixed', priceOcean: model.oceanPrice } : { type: 'free' },
        serviceTimeout: SERVICE_TIMEOUT_SECONDS,
        trustedAlgorithm: RUNTIME_ALGORITHM,
      });
      const [row] = await db
        .update(models)
        .set({
          chainId: config.chainId,
          did: published.did,
          nftAddress: published.nftAddress,
          datatokenAddress: published.datatokenAddress,
          serviceId: published.serviceId,
          serviceTimeout: SERVICE_TIMEOUT_SECONDS,
          publishTxHashes: published.txHashes as Record<string, string>,
          publishedAt: new Date(),
        })
        .where(eq(models.id, model.id))
        .returning();
      options.log.info({ model: model.id, did: published.did, datatoken: published.datatokenAddress }, 'model published on chain');
      return row;
    },
    isLive,
    async publishDataset(dataset) {
      const published = await client.assets.publishComputeAsset({
        content: { kind: 'dataset', sha256: dataset.sha256 },
        name: dataset.name,
        symbol: `D${dataset.id.replace(/-/g, '').slice(0, 7).toUpperCase()}`,
        description: `Posthuman Gateway training dataset ${dataset.id}; sha256 ${dataset.sha256}; compute-only, never downloadable`,
        pricing: { type: 'free' },
        serviceTimeout: SERVICE_TIMEOUT_SECONDS,
        trustedAlgorithm: RUNTIME_ALGORITHM,
      });
      options.log.info({ dataset: dataset.id, did: published.did, datatoken: published.datatokenAddress }, 'dataset published on chain');
      return published;
    },
    orderFor: (model) => pool.acquire(target(model)),
    async warm(model) {
      if (options.poolSize > 0) await pool.warm(target(model), options.poolSize);
    },
    async close() {
      await pool.close();
      client.close();
    },
  };
}
