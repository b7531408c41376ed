// Typed settings for the chain the gateway orders on: an embedded local chain (default, nothing to
// configure) or an external RPC with Ocean's published addresses. Keys are never logged. The public
// part (PublicChainConfig) is all a worker gets: it validates orders by address, signing nothing.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type JsonRpcProvider, Wallet, getAddress, isAddress } from 'ethers';
import { OceanError } from './ocean-error.js';
import { type OceanAddresses, assertContractsDeployed, publishedAddresses, readAddressFile } from './ocean-addresses.js';
import { FailoverJsonRpcProvider, type FailoverOptions, agreeOnChainId, parseRpcUrls, redactRpcUrl } from './rpc-endpoints.js';
import { checkServiceEndpoint, isLocalChainId } from './service-endpoint.js';

export interface OceanChainConfig {
  /** One JSON-RPC URL, or several separated by commas (tried in order, see rpc-endpoints.ts). */
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

/**
 * What a worker needs to validate orders, and nothing secret: where the chain is, which wallet orders
 * (the consumer) and whose provider fee an order must carry (the provider), both by address, and
 * Ocean's factory (a model's NFT and datatoken must both come from it).
 */
export interface PublicChainConfig {
  rpcUrl: string;
  chainId: number;
  consumerAddress: string;
  providerAddress: string;
  factoryAddress: string;
}

/** The public half of a full (gateway) config: addresses derived from its keys, no key kept. */
export function publicChainConfig(config: OceanChainConfig): PublicChainConfig {
  return {
    rpcUrl: config.rpcUrl,
    chainId: config.chainId,
    consumerAddress: new Wallet(config.consumerPrivateKey).address,
    providerAddress: new Wallet(config.providerPrivateKey).address,
    factoryAddress: config.addresses.ERC721Factory,
  };
}

/** The file a chain writes for workers (`<data dir>/ocean-public.json`): chain id and addresses only. */
export interface PublicChainFile {
  chainId: number;
  consumerAddress: string;
  providerAddress: string;
  marketplaceFeeAddress: string;
  addresses: OceanAddresses;
}

export async function writePublicChainFile(file: string, config: OceanChainConfig): Promise<void> {
  const { consumerAddress, providerAddress, chainId } = publicChainConfig(config);
  const body: PublicChainFile = { chainId, consumerAddress, providerAddress, marketplaceFeeAddress: config.marketplaceFeeAddress, addresses: config.addresses };
  await mkdir(dirname(file), { recursive: true });
  // Readable by anyone: nothing in it is secret. Renamed into place so a reader never sees half of it.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o644 });
  await rename(temp, file);
}

export async function readPublicChainFile(file: string, rpcUrl: string): Promise<PublicChainConfig> {
  let parsed: Partial<PublicChainFile>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new OceanError('config_invalid', `cannot read the chain's public file ${file}`, { cause: err });
  }
  const address = (name: 'consumerAddress' | 'providerAddress') => {
    const value = parsed[name];
    if (typeof value !== 'string' || !isAddress(value)) throw new OceanError('config_invalid', `${file}: ${name} is not an address`);
    return getAddress(value);
  };
  if (!Number.isSafeInteger(parsed.chainId) || (parsed.chainId as number) < 1) throw new OceanError('config_invalid', `${file}: chainId is not a chain id`);
  const factory = parsed.addresses?.ERC721Factory;
  if (typeof factory !== 'string' || !isAddress(factory)) throw new OceanError('config_invalid', `${file}: addresses.ERC721Factory is not an address`);
  return {
    rpcUrl,
    chainId: parsed.chainId as number,
    consumerAddress: address('consumerAddress'),
    providerAddress: address('providerAddress'),
    factoryAddress: getAddress(factory),
  };
}

/** A worker's public chain facts from CHAIN_CONSUMER_ADDRESS / CHAIN_PROVIDER_ADDRESS; undefined when neither is set. */
export function readPublicChainEnv(env: Env): { consumerAddress: string; providerAddress: string } | undefined {
  const consumer = env.CHAIN_CONSUMER_ADDRESS;
  const provider = env.CHAIN_PROVIDER_ADDRESS;
  if (!consumer && !provider) return undefined;
  for (const [name, value] of [
    ['CHAIN_CONSUMER_ADDRESS', consumer],
    ['CHAIN_PROVIDER_ADDRESS', provider],
  ] as const) {
    if (!value) throw invalid(name, 'is required with the other one (a worker checks orders by both addresses)');
    if (!isAddress(value)) throw invalid(name, 'is not an address');
  }
  return { consumerAddress: getAddress(consumer as string), providerAddress: getAddress(provider as string) };
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
  /** OCEAN_SERVICE_ENDPOINT, else PUBLIC_BASE_URL; required (and public) unless the chain is local. */
  serviceEndpoint: string | undefined;
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
  const serviceEndpoint = env.OCEAN_SERVICE_ENDPOINT || env.PUBLIC_BASE_URL || undefined;
  if (!env.OCEAN_RPC_URL) throw invalid('OCEAN_RPC_URL', 'is required for a real network');
  const rpcUrl = parseRpcUrls(env.OCEAN_RPC_URL, 'OCEAN_RPC_URL').join(',');
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
 * A JSON-RPC client tuned for our use (fixed network, no batching, no response cache) over one URL or
 * a comma-separated list of them, failing over from one to the next (rpc-endpoints.ts).
 */
export function createRpcProvider(rpcUrl: string, chainId: number, timeoutMs = 15_000, options: Omit<FailoverOptions, 'timeoutMs'> = {}): JsonRpcProvider {
  return new FailoverJsonRpcProvider(parseRpcUrls(rpcUrl, 'RPC URL'), chainId, { ...options, timeoutMs });
}

/**
 * Resolves external settings into a full config, checked before anything is sent: every endpoint
 * serves the same chain (OCEAN_CHAIN_ID when set), the address book names every contract we call and
 * each has code there, and the service endpoint is public unless the chain is local.
 */
export async function resolveExternalChainConfig(settings: OceanChainSettings): Promise<OceanChainConfig> {
  const urls = parseRpcUrls(settings.rpcUrl, 'OCEAN_RPC_URL');
  const chainId = await agreeOnChainId(urls, 'OCEAN_RPC_URL', settings.chainId);
  const addresses = settings.addressFile
    ? await readAddressFile(settings.addressFile, chainId)
    : publishedAddresses(chainId);
  const serviceEndpoint = checkServiceEndpoint(settings.serviceEndpoint ?? (isLocalChainId(chainId) ? 'http://127.0.0.1:8080' : undefined), chainId);
  const provider = createRpcProvider(settings.rpcUrl, chainId);
  try {
    await assertContractsDeployed(provider, addresses, settings.addressFile ?? '@oceanprotocol/contracts address.json');
  } finally {
    provider.destroy();
  }
  const { mode: _mode, addressFile: _file, chainId: _id, ...rest } = settings;
  return { ...rest, chainId, addresses, serviceEndpoint };
}

/** What is safe to log about a config: addresses, never keys. */
export function describeChainConfig(config: OceanChainConfig) {
  return {
    rpcUrl: config.rpcUrl.split(',').map(redactRpcUrl).join(', '),
    chainId: config.chainId,
    consumer: new Wallet(config.consumerPrivateKey).address,
    provider: new Wallet(config.providerPrivateKey).address,
    publisher: new Wallet(config.publisherPrivateKey).address,
    marketplaceFeeAddress: config.marketplaceFeeAddress,
    serviceEndpoint: config.serviceEndpoint,
    addresses: config.addresses,
  };
}
