// Where Ocean's contracts live on a chain, in ocean.js's address-file format (one entry per network).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getAddress } from 'ethers';
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

const REQUIRED = ['Ocean', 'Router', 'FixedPrice', 'Dispenser', 'ERC721Factory'] as const;

function parseEntry(entry: Record<string, unknown>, where: string): OceanAddresses {
  for (const key of REQUIRED) {
    if (typeof entry[key] !== 'string') {
      throw new OceanError('config_invalid', `${where}: missing address "${key}"`);
    }
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
  const entry = Object.values(book).find((e) => Number(e.chainId) === chainId);
  return entry ? parseEntry(entry, where) : undefined;
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
  if (!found) throw new OceanError('config_invalid', `Ocean publishes no contract addresses for chain ${chainId}`);
  return found;
}

/** Writes (atomically) an ocean.js address file holding one network, `development` by default. */
export async function writeAddressFile(path: string, addresses: OceanAddresses, network = 'development') {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ [network]: addresses }, null, 2)}\n`);
  await rename(tmp, path);
}
