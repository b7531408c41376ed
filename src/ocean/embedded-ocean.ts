// The zero-configuration chain: starts a local chain, deploys Ocean's contracts, and funds the
// gateway's wallets, whose keys persist in the data dir. The chain's state persists there too (a
// journal replayed at start), so a restart keeps every contract, publication, order and anchor.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wallet, parseEther } from 'ethers';
import type { OceanChainConfig } from './chain-config.js';
import { createRpcProvider, writePublicChainFile } from './chain-config.js';
import { contractInterface } from './contract-artifacts.js';
import { deployOceanContracts } from './deploy-contracts.js';
import { type LocalChain, type LocalChainOptions, startLocalChain } from './local-chain.js';
import { ManagedSigner } from './nonce-manager.js';
import { type OceanAddresses, readAddressFile, writeAddressFile } from './ocean-addresses.js';
import { OceanError } from './ocean-error.js';

export const WALLET_ROLES = ['consumer', 'provider', 'publisher', 'marketplace'] as const;
export type WalletRole = (typeof WALLET_ROLES)[number];
export type DevWallets = Record<WalletRole, { address: string; privateKey: string }>;

export interface EmbeddedOceanOptions extends LocalChainOptions {
  dataDir: string;
  serviceEndpoint?: string;
  /** OCEAN minted to the consumer and the publisher when the chain is created. Default 1,000,000. */
  oceanGrant?: string;
  /** Where the public facts for workers go (no key in it). Default `<dataDir>/ocean-public.json`. */
  publicFile?: string;
  /** Keep the chain's state in `<dataDir>/chain/journal.jsonl` across restarts. Default true. */
  persist?: boolean;
}

export interface EmbeddedOcean {
  chain: LocalChain;
  config: OceanChainConfig;
  addressFile: string;
  walletFile: string;
  /** Chain id and addresses for workers: what they validate orders with, instead of the wallets file. */
  publicFile: string;
  stop(): Promise<void>;
}

/** Loads the wallets file, creating missing keys; the file is readable by its owner only. */
export async function loadOrCreateDevWallets(walletFile: string): Promise<DevWallets> {
  let stored: Partial<Record<WalletRole, { privateKey?: string }>> = {};
  try {
    stored = JSON.parse(await readFile(walletFile, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new OceanError('config_invalid', `cannot read ${walletFile}`, { cause: err });
    }
  }
  const wallets = {} as DevWallets;
  let changed = false;
  for (const role of WALLET_ROLES) {
    const key = stored[role]?.privateKey;
    const wallet = key ? new Wallet(key) : Wallet.createRandom();
    changed ||= !key;
    wallets[role] = { address: wallet.address, privateKey: wallet.privateKey };
  }
  if (changed) await writeFile(walletFile, `${JSON.stringify(wallets, null, 2)}\n`, { mode: 0o600 });
  await chmod(walletFile, 0o600);
  return wallets;
}

export async function startEmbeddedOcean(options: EmbeddedOceanOptions): Promise<EmbeddedOcean> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const walletFile = join(options.dataDir, 'ocean-wallets.json');
  const addressFile = join(options.dataDir, 'ocean-addresses.json');
  const wallets = await loadOrCreateDevWallets(walletFile);

  // Deploy and fund on automine (fast), then switch to the requested block interval.
  const journalFile = options.persist === false ? undefined : join(options.dataDir, 'chain', 'journal.jsonl');
  const chain = await startLocalChain({ ...options, intervalMiningMs: 0, journalFile });
  const provider = createRpcProvider(chain.rpcUrl, chain.chainId);
  try {
    const restored = chain.replayed.blocks > 0 ? await restoredAddresses(addressFile, chain.chainId, provider) : null;
    const addresses = restored ?? (await deployAndFund(chain, provider, wallets, options.oceanGrant));
    if (!restored) await writeAddressFile(addressFile, addresses);
    if (options.intervalMiningMs && options.intervalMiningMs > 0) await chain.setIntervalMining(options.intervalMiningMs);

    const config: OceanChainConfig = {
      rpcUrl: chain.rpcUrl,
      chainId: chain.chainId,
      addresses,
      consumerPrivateKey: wallets.consumer.privateKey,
      providerPrivateKey: wallets.provider.privateKey,
      publisherPrivateKey: wallets.publisher.privateKey,
      marketplaceFeeAddress: wallets.marketplace.address,
      serviceEndpoint: options.serviceEndpoint ?? 'http://127.0.0.1:8080',
    };
    const publicFile = options.publicFile ?? join(options.dataDir, 'ocean-public.json');
    await writePublicChainFile(publicFile, config);
    return { chain, config, addressFile, walletFile, publicFile, stop: () => chain.stop() };
  } catch (err) {
    await chain.stop();
    throw err;
  } finally {
    provider.destroy();
  }
}

/** A replayed chain keeps its contracts: the address file still names them, and they have code. */
async function restoredAddresses(addressFile: string, chainId: number, provider: ReturnType<typeof createRpcProvider>): Promise<OceanAddresses | null> {
  let addresses: OceanAddresses;
  try {
    addresses = await readAddressFile(addressFile, chainId);
  } catch {
    return null;
  }
  return (await provider.getCode(addresses.ERC721Factory)) !== '0x' ? addresses : null;
}

/** Deploys Ocean's contracts on a new chain and funds the gateway's wallets. */
async function deployAndFund(chain: LocalChain, provider: ReturnType<typeof createRpcProvider>, wallets: DevWallets, oceanGrant = '1000000'): Promise<OceanAddresses> {
  const deployer = new ManagedSigner(chain.accounts[0].privateKey, provider, { chainId: chain.chainId });
  const addresses = await deployOceanContracts(deployer, chain.chainId);
  const ocean = contractInterface('OceanToken');
  const grant = parseEther(oceanGrant);
  const funding = [];
  for (const role of WALLET_ROLES) {
    funding.push(await deployer.send({ to: wallets[role].address, data: '0x', value: parseEther('100'), gasLimit: 21_000n }));
  }
  for (const role of ['consumer', 'publisher'] as const) {
    const data = ocean.encodeFunctionData('mint', [wallets[role].address, grant]);
    funding.push(await deployer.send({ to: addresses.Ocean, data, gasLimit: 100_000n }));
  }
  await Promise.all(funding.map((tx) => deployer.wait(tx)));
  return addresses;
}
