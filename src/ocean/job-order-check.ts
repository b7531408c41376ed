// The worker's side of Ocean: before running a job it checks, as an Ocean provider does, that the
// job's order is valid on chain and that the weights it is about to load are the ones registered
// on chain for the model's NFT. It holds no key: the consumer and the provider are known by address.
import { createRpcProvider, type PublicChainConfig } from './chain-config.js';
import { readWeightsSha256FromChain } from './model-publisher.js';
import { isOceanError } from './ocean-error.js';
import { validateOrder } from './order-validator.js';

export interface OrderCheckInput {
  jobId: string;
  orderTxHash: string | null;
  orderChainId: number | null;
  weightsSha256: string;
  model: { id: string; datatokenAddress: string | null; nftAddress: string | null; serviceTimeout: number | null };
}

export type OrderCheck = { ok: true } | { ok: false; permanent: boolean; code: string; message: string };

export function createJobOrderChecker(config: PublicChainConfig) {
  const provider = createRpcProvider(config.rpcUrl, config.chainId);
  const registered = new Map<string, string | null>();

  return {
    chainId: config.chainId,
    async check(input: OrderCheckInput): Promise<OrderCheck> {
      if (!input.orderTxHash) {
        // The gateway attaches the order before enqueueing; a job re-enqueued without one waits.
        return { ok: false, permanent: false, code: 'order_missing', message: 'the job has no Ocean order yet' };
      }
      if (input.orderChainId !== config.chainId || !input.model.datatokenAddress || !input.model.nftAddress) {
        return { ok: false, permanent: true, code: 'invalid_order', message: `the order is not on chain ${config.chainId}` };
      }
      try {
        const result = await validateOrder(provider, {
          txHash: input.orderTxHash,
          datatokenAddress: input.model.datatokenAddress,
          expectedConsumer: config.consumerAddress,
          serviceIndex: 0,
          providerAddress: config.providerAddress,
          validitySeconds: input.model.serviceTimeout ?? 0,
          usedCount: 0,
          maxUses: 1,
        });
        if (!result.ok) return { ok: false, permanent: true, code: 'invalid_order', message: `${result.reason}: ${result.detail}` };
        let onChain = registered.get(input.model.nftAddress);
        if (onChain === undefined) {
          onChain = await readWeightsSha256FromChain(provider, input.model.nftAddress);
          registered.set(input.model.nftAddress, onChain);
        }
        if (onChain !== input.weightsSha256) {
          return {
            ok: false,
            permanent: true,
            code: 'weights_not_registered',
            message: `the chain registers weights ${onChain ?? 'none'} for ${input.model.id}, not ${input.weightsSha256}`,
          };
        }
        return { ok: true };
      } catch (err) {
        // RPC down, timeouts: not the order's fault; the job is retried with backoff.
        if (isOceanError(err)) return { ok: false, permanent: false, code: err.code, message: err.message };
        throw err;
      }
    },
    close: () => provider.destroy(),
  };
}

export type JobOrderChecker = ReturnType<typeof createJobOrderChecker>;
