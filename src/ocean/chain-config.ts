// Typed settings for the chain the gateway orders on: an embedded local chain (default, nothing to
// configure) or an external RPC with Ocean's published addresses. Keys are never logged.
import { FetchRequest, JsonRpcProvider, Network, Wallet, isAddress } from 'ethers';
import { OceanError } from './ocean-error.js';
import { type OceanAddresses, publishedAddresses, readAddressFile } from './ocean-addresses.js';

export interface OceanChainConfig {
  rpcUrl: string;
  chainId: number;
  addresses: OceanAddresses;
  /** Pays for orders (the gateway's wallet). */
  consumerPrivateKey: string;
  /** Signs provider fees; the worker's identity as compute provider. Sends no transactions. */
  providerPrivateKey: string;
  /** Publishes models (creates NFTs, datatokens, sets metadata). */
  publisherPrivateKey: string;
  marketplaceFeeAddress: string;
  /** Written into each DDO's compute service. */
  serviceEndpoint: string;
}

/** A real network's settings, from OCEAN_* variables (the embedded and attached chains need none). */
export interface OceanChainSettings {
  mode: 'external';
  rpcUrl: string;
  chainId: number | undefined;
  addressFile: string | undefined;
  consumerPrivateKey: string;
  providerPrivateKey: string;
  publisherPrivateKey: string;
  marketplaceFeeAddress: string;
  serviceEndpoint: string;
}

type Env = Record<string, string | undefined>;

function invalid(variable: string, message: string): OceanError {
  return new OceanError('config_invalid', `${variable}: ${message}`);
}

function readKey(env: Env, name: string, fallback?: string): string {
  const raw = env[name] || fallback;
  if (!raw) throw invalid(name, 'is required when OCEAN_RPC_URL is set');
  const key = raw.startsWith('0x') ? raw : `0x${raw}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw invalid(name, 'must be a 32-byte hex private key');
  return key;
}

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw invalid(name, `must be a whole number in ${min}..${max}`);
  return value;
}

/** Reads and validates a real network's settings once; throws `config_invalid` naming the variable. */
export function readOceanChainSettings(env: Env = process.env): OceanChainSettings {
  const serviceEndpoint = env.OCEAN_SERVICE_ENDPOINT || env.PUBLIC_BASE_URL || 'http://127.0.0.1:8080';
  const rpcUrl = env.OCEAN_RPC_URL;
  if (!rpcUrl) throw invalid('OCEAN_RPC_URL', 'is required for a real network');
  if (!/^(https?|wss?):\/\//.test(rpcUrl)) throw invalid('OCEAN_RPC_URL', 'must be an http(s) or ws(s) URL');
  const consumerPrivateKey = readKey(env, 'OCEAN_CONSUMER_KEY');
  const marketplaceFeeAddress = env.OCEAN_MARKETPLACE_FEE_ADDRESS || new Wallet(consumerPrivateKey).address;
  if (!isAddress(marketplaceFeeAddress)) throw invalid('OCEAN_MARKETPLACE_FEE_ADDRESS', 'is not an address');
  return {
    mode: 'external',
    rpcUrl,
    chainId: env.OCEAN_CHAIN_ID ? readInt(env, 'OCEAN_CHAIN_ID', 0, 1, 2 ** 53) : undefined,
    addressFile: env.OCEAN_ADDRESS_FILE || env.ADDRESS_FILE || undefined,
    consumerPrivateKey,
    providerPrivateKey: readKey(env, 'OCEAN_PROVIDER_KEY'),
    publisherPrivateKey: readKey(env, 'OCEAN_PUBLISHER_KEY', consumerPrivateKey),
    marketplaceFeeAddress,
    serviceEndpoint,
  };
}

/**
 * A JSON-RPC client tuned for our use: fixed network (no start-up probing), no batching stall, and no
 * 250 ms response cache (it would hand back a stale `latest` block or a stale null receipt).
 */
export function createRpcProvider(rpcUrl: string, chainId: number, timeoutMs = 15_000): JsonRpcProvider {
  const request = new FetchRequest(rpcUrl);
  request.timeout = timeoutMs;
  return new JsonRpcProvider(request, Network.from(chainId), {
    staticNetwork: Network.from(chainId),
    batchMaxCount: 1,
    cacheTimeout: -1,
    pollingInterval: 250,
  });
}

/** Resolves external settings into a full config: the chain id (asked if unset) and the addresses. */
export async function resolveExternalChainConfig(settings: OceanChainSettings): Promise<OceanChainConfig> {
  let chainId = settings.chainId;
  if (chainId === undefined) {
    const probe = new JsonRpcProvider(settings.rpcUrl, undefined, { staticNetwork: true });
    try {
      chainId = Number(await probe.send('eth_chainId', []));
    } catch (err) {
      throw new OceanError('rpc_unavailable', `OCEAN_RPC_URL: cannot read the chain id`, { cause: err });
    } finally {
      probe.destroy();
    }
  }
  const addresses = settings.addressFile
    ? await readAddressFile(settings.addressFile, chainId)
    : publishedAddresses(chainId);
  const { mode: _mode, addressFile: _file, chainId: _id, ...rest } = settings;
  return { ...rest, chainId, addresses };
}

/** What is safe to log about a config: addresses, never keys. */
export function describeChainConfig(config: OceanChainConfig) {
  return {
    rpcUrl: config.rpcUrl,
    chainId: config.chainId,
    consumer: new Wallet(config.consumerPrivateKey).address,
    provider: new Wallet(config.providerPrivateKey).address,
    publisher: new Wallet(config.publisherPrivateKey).address,
    marketplaceFeeAddress: config.marketplaceFeeAddress,
    serviceEndpoint: config.serviceEndpoint,
    addresses: config.addresses,
  };
}
