// Wires the Ocean module for one process from a chain config: one RPC client, one nonce-managed
// signer per key (shared when keys repeat), and the publisher, order and validation services.
import { Wallet } from 'ethers';
import { type OceanChainConfig, createRpcProvider } from './chain-config.js';
import type { AssetKind } from './ddo-builder.js';
import { createModelPublisher, readContentSha256FromChain, readWeightsSha256FromChain } from './model-publisher.js';
import { ManagedSigner } from './nonce-manager.js';
import { type OrderServiceDeps, createOrderService } from './order-service.js';
import { type ValidateOrderInput, validateOrder } from './order-validator.js';
import { type ChainTxPolicy, chainTxPolicy } from './chain-tx-policy.js';
import type { RetryPolicy } from './retry-policy.js';
import { providerPublicKey } from './service-files.js';
import type { WaitOptions } from './tx-receipts.js';

export interface OceanClientOptions {
  /** Provider-fee duration (seconds) on orders we place. Default 3600. */
  orderValiditySeconds?: number;
  providerFeeAmount?: bigint;
  retry?: RetryPolicy;
  wait?: WaitOptions;
  rpcTimeoutMs?: number;
  /** Confirmations and fee rules of the chain; default: the chain's own (chain-tx-policy.ts). */
  txPolicy?: ChainTxPolicy;
}

export function createOceanClient(config: OceanChainConfig, options: OceanClientOptions = {}) {
  const provider = createRpcProvider(config.rpcUrl, config.chainId, options.rpcTimeoutMs);
  const txPolicy = options.txPolicy ?? chainTxPolicy(config.chainId);
  const signerOptions = { chainId: config.chainId, wait: options.wait, confirmations: txPolicy.confirmations, minPriorityFeeWei: txPolicy.minPriorityFeeWei, replaceAfterMs: txPolicy.replaceAfterMs };
  const consumer = new ManagedSigner(config.consumerPrivateKey, provider, signerOptions);
  // Two signers on one key would hand out the same nonces: share the instance.
  const publisher =
    config.publisherPrivateKey.toLowerCase() === config.consumerPrivateKey.toLowerCase()
      ? consumer
      : new ManagedSigner(config.publisherPrivateKey, provider, signerOptions);
  const providerWallet = new Wallet(config.providerPrivateKey);
  const orderDeps: OrderServiceDeps = {
    consumer,
    providerSigner: providerWallet,
    addresses: config.addresses,
    marketplaceFeeAddress: config.marketplaceFeeAddress,
    validForSeconds: options.orderValiditySeconds,
    providerFeeAmount: options.providerFeeAmount,
    retry: options.retry,
  };
  const assets = createModelPublisher({
    publisher,
    chainId: config.chainId,
    addresses: config.addresses,
    marketplaceFeeAddress: config.marketplaceFeeAddress,
    serviceEndpoint: config.serviceEndpoint,
    providerPublicKey: providerPublicKey(config.providerPrivateKey),
  });
  return {
    provider,
    chainId: config.chainId,
    txPolicy,
    addresses: config.addresses,
    consumerAddress: consumer.address,
    providerAddress: providerWallet.address,
    publisherAddress: publisher.address,
    consumer,
    publisher,
    // One publisher: `assets` publishes any compute-only content, `models` is the same for models.
    models: assets,
    assets,
    orders: createOrderService(orderDeps),
    validateOrder: (input: ValidateOrderInput) => validateOrder(provider, input),
    readWeightsSha256: (nftAddress: string) => readWeightsSha256FromChain(provider, nftAddress),
    readContentSha256: (nftAddress: string, kind: AssetKind) => readContentSha256FromChain(provider, nftAddress, kind),
    close: () => provider.destroy(),
  };
}

export type OceanClient = ReturnType<typeof createOceanClient>;
