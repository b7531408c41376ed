// The worker's side of Ocean: before running a job it checks, as an Ocean provider does, that the
// job's order is valid on chain and that the weights it is about to load are the ones registered
// on chain for the model's NFT.
import { Wallet } from 'ethers';
import type { OceanChainConfig } from './chain-config.js';
import { createOceanClient } from './ocean-client.js';
import { isOceanError } from './ocean-error.js';

export interface OrderCheckInput {
  jobId: string;
  orderTxHash: string | null;
  orderChainId: number | null;
  weightsSha256: string;
  model: { id: string; datatokenAddress: string | null; nftAddress: string | null; serviceTimeout: number | null };
}

export type OrderCheck = { ok: true } | { ok: false; permanent: boolean; code: string; message: string };

export function createJobOrderChecker(config: OceanChainConfig) {
  const client = createOceanClient(config);
  const consumerAddress = new Wallet(config.consumerPrivateKey).address;
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
        const result = await client.validateOrder({
          txHash: input.orderTxHash,
          datatokenAddress: input.model.datatokenAddress,
          expectedConsumer: consumerAddress,
          serviceIndex: 0,
          providerAddress: client.providerAddress,
          validitySeconds: input.model.serviceTimeout ?? 0,
          usedCount: 0,
          maxUses: 1,
        });
        if (!result.ok) return { ok: false, permanent: true, code: 'invalid_order', message: `${result.reason}: ${result.detail}` };
        let onChain = registered.get(input.model.nftAddress);
        if (onChain === undefined) {
          onChain = await client.readWeightsSha256(input.model.nftAddress);
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
    close: () => client.close(),
  };
}

export type JobOrderChecker = ReturnType<typeof createJobOrderChecker>;
