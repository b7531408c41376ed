// Where Ocean's contracts live on a chain, in ocean.js's address-file format (one entry per network).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type JsonRpcProvider, getAddress, isAddress } from 'ethers';
import { publishedAddressBook } from './contract-artifacts.js';
import { OceanError } from './ocean-error.js';

export interface OceanAddresses {
  chainId: number;
  Ocean: string;
  OPFCommunityFeeCollector: string;
  Router: string;
  FixedPrice: string;
  Dispenser: string;
  ERC721Factory: string;
  /** Template index → address, as ocean.js expects. */
  ERC20Template: Record<string, string>;
  ERC721Template: Record<string, string>;
  Escrow?: string;
  /** First block worth indexing (the router's deployment). */
  startBlock: number;
}

/** The contracts the gateway calls: publishing (factory), ordering (dispenser, exchange, OCEAN), fees. */
const REQUIRED = ['Ocean', 'Router', 'FixedPrice', 'Dispenser', 'ERC721Factory'] as const;

/** What an operator can do when an address book falls short. */
const REMEDY = 'give the gateway an address file in ocean.js format that names them (OCEAN_ADDRESS_FILE)';

function parseEntry(entry: Record<string, unknown>, where: string, network?: string): OceanAddresses {
  const missing = REQUIRED.filter((key) => typeof entry[key] !== 'string' || !isAddress(entry[key]));
  if (missing.length > 0) {
    const on = `chain ${Number(entry.chainId)}${network ? ` ("${network}")` : ''}`;
    throw new OceanError(
      'config_invalid',
      `${where} has no ${missing.map((k) => `"${k}"`).join(', ')} contract address for ${on}, which the gateway needs to publish and order: ${REMEDY}`,
    );
  }
  return {
    chainId: Number(entry.chainId),
    Ocean: getAddress(entry.Ocean as string),
    OPFCommunityFeeCollector: String(entry.OPFCommunityFeeCollector ?? ''),
    Router: getAddress(entry.Router as string),
    FixedPrice: getAddress(entry.FixedPrice as string),
    Dispenser: getAddress(entry.Dispenser as string),
    ERC721Factory: getAddress(entry.ERC721Factory as string),
    ERC20Template: (entry.ERC20Template as Record<string, string>) ?? {},
    ERC721Template: (entry.ERC721Template as Record<string, string>) ?? {},
    Escrow: typeof entry.Escrow === 'string' ? entry.Escrow : undefined,
    startBlock: Number(entry.startBlock ?? 0),
  };
}

function findByChainId(book: Record<string, Record<string, unknown>>, chainId: number, where: string) {
  const found = Object.entries(book).find(([, e]) => Number(e.chainId) === chainId);
  return found ? parseEntry(found[1], where, found[0]) : undefined;
}

/** Addresses for `chainId` from an ocean.js address file; throws `config_invalid` if absent. */
export async function readAddressFile(path: string, chainId: number): Promise<OceanAddresses> {
  let book: Record<string, Record<string, unknown>>;
  try {
    book = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new OceanError('config_invalid', `cannot read address file ${path}`, { cause: err });
  }
  const found = findByChainId(book, chainId, path);
  if (!found) throw new OceanError('config_invalid', `address file ${path} has no entry for chain ${chainId}`);
  return found;
}

/** Addresses Ocean published for a public network (the contracts package's address.json). */
export function publishedAddresses(chainId: number): OceanAddresses {
  const found = findByChainId(publishedAddressBook(), chainId, '@oceanprotocol/contracts address.json');
  if (!found) throw new OceanError('config_invalid', `Ocean publishes no contract addresses for chain ${chainId}: ${REMEDY}`);
  return found;
}

/**
 * Start-up check that the address book matches the chain: each contract we call has code at its
 * address (a book for another network, or a redeployment, fails here and not at the first order).
 */
export async function assertContractsDeployed(provider: JsonRpcProvider, addresses: OceanAddresses, where: string): Promise<void> {
  const codes = await Promise.all(REQUIRED.map((key) => provider.getCode(addresses[key])));
  const empty = REQUIRED.filter((_, i) => codes[i] === '0x');
  if (empty.length > 0) {
    throw new OceanError(
      'config_invalid',
      `${where} names ${empty.map((k) => `"${k}" at ${addresses[k]}`).join(', ')} on chain ${addresses.chainId}, but no contract is there: ${REMEDY}`,
    );
  }
}

/** Writes (atomically) an ocean.js address file holding one network, `development` by default. */
export async function writeAddressFile(path: string, addresses: OceanAddresses, network = 'development') {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ [network]: addresses }, null, 2)}\n`);
  await rename(tmp, path);
}
