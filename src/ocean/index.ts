// The Ocean module's public surface: local chain, contracts, publishing, ordering and validation.
export { OceanError, isOceanError, OCEAN_ERROR_CODES, type OceanErrorCode } from './ocean-error.js';
export { startLocalChain, LOCAL_CHAIN_ID, DEV_MNEMONIC, type LocalChain, type LocalChainOptions, type DevAccount } from './local-chain.js';
export { deployOceanContracts } from './deploy-contracts.js';
export { readAddressFile, publishedAddresses, writeAddressFile, type OceanAddresses } from './ocean-addresses.js';
export {
  readOceanChainSettings,
  resolveExternalChainConfig,
  createRpcProvider,
  describeChainConfig,
  type OceanChainConfig,
  type OceanChainSettings,
} from './chain-config.js';
export { startEmbeddedOcean, loadOrCreateDevWallets, type EmbeddedOcean, type EmbeddedOceanOptions, type DevWallets } from './embedded-ocean.js';
export { ManagedSigner, type TxRequest, type SentTx, type ManagedSignerOptions } from './nonce-manager.js';
export { waitForSuccess, type WaitOptions } from './tx-receipts.js';
export { GAS } from './gas-limits.js';
export { withRetry, DEFAULT_RETRY, type RetryPolicy } from './retry-policy.js';
export {
  signProviderFee,
  recoverProviderFeeSigner,
  providerFeeHash,
  encodeProviderData,
  decodeProviderData,
  type ProviderFee,
  type ProviderFeeRequest,
  type MessageSigner,
} from './provider-fee.js';
export {
  buildComputeDdo,
  encodeDdo,
  generateDid,
  computeServiceId,
  normalizeSha256,
  DDO_VERSION,
  type ComputeDdo,
  type ComputeDdoInput,
  type TrustedAlgorithm,
} from './ddo-builder.js';
export {
  createModelPublisher,
  readWeightsSha256FromChain,
  WEIGHTS_SHA256_KEY,
  PARENT_NFT_KEY,
  OCEAN_JS_DATA_KEYS,
  erc725Text,
  type ModelPublisher,
  type PublishModelInput,
  type PublishedModel,
  type ModelPricing,
} from './model-publisher.js';
export { createOrderService, type OrderService, type OrderTarget, type PlacedOrder, type OrderServiceDeps } from './order-service.js';
export { createOrderPool, type OrderPool, type OrderPoolOptions, type OrderPoolStore, type PooledOrder, type StoredOrder } from './order-pool.js';
export { createOrderPoolStore } from './order-pool-store.js';
export { validateOrder, type ValidateOrderInput, type OrderValidation, type OrderRejection, type ValidatedOrder } from './order-validator.js';
export { createOceanClient, type OceanClient, type OceanClientOptions } from './ocean-client.js';
export { assertValidDdo, describeDdoErrors } from './ddo-validation.js';
export { encryptServiceFiles, decryptServiceFiles, serviceFilesObject, providerPublicKey, type ServiceFilesObject } from './service-files.js';
export { checkServiceEndpoint, isLocalChainId, LOCAL_CHAIN_IDS } from './service-endpoint.js';
export { signNodeCommand, verifyNodeCommand, nodeCommandMessage, type SignedNodeCommand } from './node-auth.js';
export { FailoverJsonRpcProvider, parseRpcUrls, agreeOnChainId, redactRpcUrl } from './rpc-endpoints.js';
export { createNftWatch, METADATA_STATES, isServingState, type NftState, type NftWatch } from './nft-watch.js';
export { createAssetProvenance, type AssetProvenance, type Provenance } from './asset-provenance.js';
export { createJobOrderChecker, type JobOrderChecker, type OrderCheckInput, type OrderCheck } from './job-order-check.js';
