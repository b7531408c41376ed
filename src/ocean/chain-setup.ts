// Decides which chain this process talks to: an embedded local chain the gateway starts (default),
// a chain already running at CHAIN_RPC_URL whose addresses and dev wallets are in the gateway's data
// dir (`npm run chain`, or a gateway's embedded chain), or an external network configured by OCEAN_*.
// Only the gateway holds wallet keys: a worker gets the public facts (setUpWorkerChain) and no key.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAddress, isAddress } from 'ethers';
import type { Config } from '../config/config.js';
import {
  type OceanChainConfig,
  type PublicChainConfig,
  readOceanChainSettings,
  readPublicChainEnv,
  readPublicChainFile,
  resolveExternalChainConfig,
} from './chain-config.js';
import { startEmbeddedOcean } from './embedded-ocean.js';
import { publishedAddresses, readAddressFile } from './ocean-addresses.js';
import { OceanError } from './ocean-error.js';
import { agreeOnChainId, parseRpcUrls } from './rpc-endpoints.js';
import { checkServiceEndpoint } from './service-endpoint.js';

export interface ChainSetup {
  mode: 'embedded' | 'attached' | 'external';
  config: OceanChainConfig;
  stop(): Promise<void>;
}

/** The chain every listed endpoint serves (they must agree; at least one must answer). */
function readChainId(rpcUrl: string, variable = 'CHAIN_RPC_URL'): Promise<number> {
  return agreeOnChainId(parseRpcUrls(rpcUrl, variable), variable);
}

/** Attaches to a local chain started by another process of this deployment (same data dir). */
async function attach(rpcUrl: string, dataDir: string, serviceEndpoint: string): Promise<OceanChainConfig> {
  const walletFile = join(dataDir, 'ocean-wallets.json');
  const addressFile = join(dataDir, 'ocean-addresses.json');
  if (!existsSync(walletFile) || !existsSync(addressFile)) {
    throw new OceanError(
      'config_invalid',
      `CHAIN_RPC_URL is set but ${dataDir} has no ocean-wallets.json / ocean-addresses.json: start the chain with ` +
        '`npm run chain` (or `npm start`) on the same POSTHUMAN_DATA_DIR, or configure OCEAN_CONSUMER_KEY and friends',
    );
  }
  // The address file names its chain, so a worker can start while the chain is briefly down.
  const book = JSON.parse(await readFile(addressFile, 'utf8')) as Record<string, { chainId?: number }>;
  const chainId = Object.values(book)[0]?.chainId ?? (await readChainId(rpcUrl));
  const wallets = JSON.parse(await readFile(walletFile, 'utf8')) as Record<string, { privateKey: string; address: string }>;
  return {
    rpcUrl,
    chainId,
    addresses: await readAddressFile(addressFile, chainId),
    consumerPrivateKey: wallets.consumer.privateKey,
    providerPrivateKey: wallets.provider.privateKey,
    publisherPrivateKey: wallets.publisher.privateKey,
    marketplaceFeeAddress: wallets.marketplace.address,
    serviceEndpoint: checkServiceEndpoint(serviceEndpoint, chainId, 'PUBLIC_BASE_URL'),
  };
}

/**
 * Ocean's ERC721Factory for a worker configured by environment: CHAIN_FACTORY_ADDRESS, else the
 * address book the gateway uses (OCEAN_ADDRESS_FILE, else Ocean's published one for the chain).
 */
async function workerFactoryAddress(env: Record<string, string | undefined>, chainId: number): Promise<string> {
  if (env.CHAIN_FACTORY_ADDRESS) {
    if (!isAddress(env.CHAIN_FACTORY_ADDRESS)) throw new OceanError('config_invalid', 'CHAIN_FACTORY_ADDRESS: is not an address');
    return getAddress(env.CHAIN_FACTORY_ADDRESS);
  }
  const addressFile = env.OCEAN_ADDRESS_FILE || env.ADDRESS_FILE;
  try {
    return (addressFile ? await readAddressFile(addressFile, chainId) : publishedAddresses(chainId)).ERC721Factory;
  } catch (err) {
    throw new OceanError(
      'config_invalid',
      `CHAIN_FACTORY_ADDRESS: a worker checks that each model comes from Ocean's factory, and none is known for chain ${chainId} (${(err as Error).message}); set CHAIN_FACTORY_ADDRESS or OCEAN_ADDRESS_FILE, or give the worker the chain's public file (CHAIN_PUBLIC_FILE)`,
    );
  }
}

/** Where a chain writes, and a worker reads, the public chain facts (CHAIN_PUBLIC_FILE). */
export function publicChainFile(dataDir: string, env: Record<string, string | undefined> = process.env): string {
  return env.CHAIN_PUBLIC_FILE || join(dataDir, 'ocean-public.json');
}

/**
 * A worker's chain: the RPC (CHAIN_RPC_URL or OCEAN_RPC_URL) and the consumer and provider addresses,
 * from CHAIN_CONSUMER_ADDRESS / CHAIN_PROVIDER_ADDRESS or else the chain's public file. No private key
 * is read, whatever the environment holds. Null with CHAIN=off.
 */
export async function setUpWorkerChain(config: Config, env = process.env): Promise<PublicChainConfig | null> {
  if (!config.chain.enabled) return null;
  const variable = env.OCEAN_RPC_URL ? 'OCEAN_RPC_URL' : 'CHAIN_RPC_URL';
  const rpcUrl = env.OCEAN_RPC_URL || config.chain.rpcUrl;
  if (!rpcUrl) throw new OceanError('config_invalid', 'CHAIN_RPC_URL: a worker needs the chain the gateway orders on (or CHAIN=off)');
  parseRpcUrls(rpcUrl, variable);
  const fromEnv = readPublicChainEnv(env);
  if (fromEnv) {
    const chainId = env.OCEAN_CHAIN_ID ? Number(env.OCEAN_CHAIN_ID) : await readChainId(rpcUrl, variable);
    if (!Number.isSafeInteger(chainId) || chainId < 1) throw new OceanError('config_invalid', 'OCEAN_CHAIN_ID: must be a chain id');
    return { rpcUrl, chainId, ...fromEnv, factoryAddress: await workerFactoryAddress(env, chainId) };
  }
  const file = publicChainFile(config.dataDir, env);
  if (!existsSync(file)) {
    throw new OceanError(
      'config_invalid',
      `CHAIN_CONSUMER_ADDRESS / CHAIN_PROVIDER_ADDRESS are unset and ${file} does not exist: give the worker the ` +
        "gateway's consumer and provider addresses, or the public file the chain writes (CHAIN_PUBLIC_FILE)",
    );
  }
  return readPublicChainFile(file, rpcUrl);
}

/**
 * Resolves the gateway's chain, with its wallet keys. Only a gateway starts an embedded chain; a
 * worker uses setUpWorkerChain. Returns null when ordering is off.
 */
export async function setUpChain(config: Config, _role: 'gateway' = 'gateway', env = process.env): Promise<ChainSetup | null> {
  if (!config.chain.enabled) return null;
  const serviceEndpoint = env.OCEAN_SERVICE_ENDPOINT || config.publicBaseUrl || `http://${config.host}:${config.port}`;
  if (env.OCEAN_RPC_URL || (config.chain.rpcUrl && env.OCEAN_CONSUMER_KEY)) {
    const settings = readOceanChainSettings({ ...env, OCEAN_RPC_URL: env.OCEAN_RPC_URL ?? config.chain.rpcUrl });
    return { mode: 'external', config: await resolveExternalChainConfig(settings), stop: async () => {} };
  }
  if (config.chain.rpcUrl) {
    return { mode: 'attached', config: await attach(config.chain.rpcUrl, config.dataDir, serviceEndpoint), stop: async () => {} };
  }
  const embedded = await startEmbeddedOcean({
    dataDir: config.dataDir,
    publicFile: publicChainFile(config.dataDir, env),
    host: '127.0.0.1',
    port: config.chain.port,
    intervalMiningMs: config.chain.blockIntervalMs,
    serviceEndpoint,
  });
  return { mode: 'embedded', config: embedded.config, stop: () => embedded.stop() };
}
