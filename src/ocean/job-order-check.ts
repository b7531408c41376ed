// The worker's side of Ocean: before running a job it checks, as an Ocean provider does, that the
// job's order is valid on chain, that the model's datatoken and NFT are Ocean's and each other's,
// that the asset is still active, and that the weights it is about to load are the ones registered
// on chain for the model's NFT. It holds no key: the consumer and the provider are known by address.
//
// Cost per job, once warm: one RPC round trip (the order's receipt). What never changes (datatoken ↔
// NFT ↔ factory) is asked once per datatoken; what can change (metadata state, weights hash, the
// chain's clock) is kept by one background poll per interval for all models (nft-watch.ts).
import { createAssetProvenance } from './asset-provenance.js';
import { chainTxPolicy } from './chain-tx-policy.js';
import { type PublicChainConfig, createRpcProvider } from './chain-config.js';
import { createNftWatch, isServingState, METADATA_STATES, metadataStateName } from './nft-watch.js';
import { isOceanError } from './ocean-error.js';
import { validateOrder } from './order-validator.js';

export interface OrderCheckInput {
  jobId: string;
  orderTxHash: string | null;
  orderChainId: number | null;
  /** The block hash the order was confirmed in when the gateway took it (null for older jobs). */
  orderBlockHash?: string | null;
  weightsSha256: string;
  model: {
    id: string;
    datatokenAddress: string | null;
    nftAddress: string | null;
    serviceTimeout: number | null;
    /** The compute service the order's provider fee must name (ocean-node checks providerData.id). */
    serviceId?: string | null;
  };
}

export type OrderCheck = { ok: true } | { ok: false; permanent: boolean; code: string; message: string };

export interface JobOrderCheckerOptions {
  /** How long a receipt the RPC does not show yet is asked for again. Default 10 s. */
  receiptWaitMs?: number;
  /** Background poll of model NFTs and the chain head. Default 1000 ms. */
  watchIntervalMs?: number;
  /** Blocks on top of an order before it counts; default: the chain's (chain-tx-policy.ts). */
  confirmations?: number;
  /**
   * How many jobs other than `jobId` carry one of these order transactions (the order itself, and for
   * a reuse the start order it pays from): the order's real use count. Absent: 0.
   */
  countOtherJobs?: (orderTxHashes: string[], jobId: string) => Promise<number>;
  onWatchError?: (err: Error) => void;
}

const refuse = (code: string, message: string): OrderCheck => ({ ok: false, permanent: true, code, message });

export function createJobOrderChecker(config: PublicChainConfig, options: JobOrderCheckerOptions = {}) {
  const provider = createRpcProvider(config.rpcUrl, config.chainId);
  const provenance = createAssetProvenance(provider, config.factoryAddress);
  const watch = createNftWatch(provider, { intervalMs: options.watchIntervalMs, onError: options.onWatchError });
  const receiptWaitMs = options.receiptWaitMs ?? 10_000;
  const confirmations = options.confirmations ?? chainTxPolicy(config.chainId).confirmations;

  return {
    chainId: config.chainId,
    async check(input: OrderCheckInput): Promise<OrderCheck> {
      if (!input.orderTxHash) {
        // The gateway attaches the order before enqueueing; a job re-enqueued without one waits.
        return { ok: false, permanent: false, code: 'order_missing', message: 'the job has no Ocean order yet' };
      }
      const { datatokenAddress, nftAddress } = input.model;
      if (input.orderChainId !== config.chainId || !datatokenAddress || !nftAddress) {
        return refuse('invalid_order', `the order is not on chain ${config.chainId}`);
      }
      try {
        // Independent, so together: the receipt is the only round trip once the caches are warm.
        const [order, origin, nft] = await Promise.all([
          validateOrder(provider, {
            txHash: input.orderTxHash,
            datatokenAddress,
            expectedConsumer: config.consumerAddress,
            serviceIndex: 0,
            providerAddress: config.providerAddress,
            validitySeconds: input.model.serviceTimeout ?? 0,
            ...(input.model.serviceId ? { serviceId: input.model.serviceId } : {}),
            receiptWaitMs,
            confirmations,
            ...(input.orderBlockHash ? { minedInBlockHash: input.orderBlockHash } : {}),
            // One order per job: a payment some other job carries (directly, or reused) is used up.
            usedCount: options.countOtherJobs
              ? (order) => options.countOtherJobs!([...new Set([order.txHash, order.orderTxHash])], input.jobId)
              : 0,
            maxUses: 1,
            nowSeconds: () => watch.now(),
          }),
          provenance.check(datatokenAddress, nftAddress),
          watch.state(nftAddress),
        ]);
        if (!origin.ok) return refuse('invalid_order', `${origin.reason}: ${origin.detail}`);
        if (!isServingState(nft.metadataState)) {
          const code = nft.metadataState === METADATA_STATES.revoked ? 'model_revoked' : 'model_inactive';
          return refuse(code, `the Ocean asset of ${input.model.id} (NFT ${nftAddress}) is ${metadataStateName(nft.metadataState)} on chain; it no longer serves`);
        }
        if (!order.ok) {
          // Not deep enough yet: the job waits and is checked again (its hold stays).
          if (order.reason === 'unconfirmed') return { ok: false, permanent: false, code: 'order_unconfirmed', message: order.detail };
          // Paid for on a chain that no longer has the payment: refused, nothing charged.
          if (order.reason === 'reorged') return refuse('order_reorged', order.detail);
          return refuse('invalid_order', `${order.reason}: ${order.detail}`);
        }
        if (nft.weightsSha256 !== input.weightsSha256) {
          if (nft.weightsChangedAt !== undefined) {
            return refuse(
              'weights_changed',
              `the weights sha256 registered for ${input.model.id} changed on chain in block ${nft.weightsChangedAt} to ${nft.weightsSha256 ?? 'none'}; this job's weights ${input.weightsSha256} no longer serve`,
            );
          }
          return refuse('weights_not_registered', `the chain registers weights ${nft.weightsSha256 ?? 'none'} for ${input.model.id}, not ${input.weightsSha256}`);
        }
        return { ok: true };
      } catch (err) {
        // RPC down, timeouts: not the order's fault; the job is retried with backoff.
        if (isOceanError(err)) {
          if (err.code === 'invalid_argument') return refuse('invalid_order', err.message);
          return { ok: false, permanent: false, code: err.code, message: err.message };
        }
        throw err;
      }
    },
    close() {
      watch.close();
      provider.destroy();
    },
  };
}

export type JobOrderChecker = ReturnType<typeof createJobOrderChecker>;
