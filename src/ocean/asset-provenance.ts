// Whether a datatoken really is the model's: deployed by the model's NFT, and both deployed by Ocean's
// factory on this chain (as ocean-node checks with ERC721Factory's erc721List / erc20List and the
// NFT's isDeployed). These facts never change once deployed, so each pair is asked once per process.
import { type JsonRpcProvider, getAddress } from 'ethers';
import { contractInterface } from './contract-artifacts.js';
import { toOceanError } from './rpc-errors.js';

export type ProvenanceRefusal = 'datatoken_not_of_nft' | 'not_from_factory';
export type Provenance = { ok: true } | { ok: false; reason: ProvenanceRefusal; detail: string };

const factoryIface = contractInterface('ERC721Factory');
const nftIface = contractInterface('ERC721Template');
const dtIface = contractInterface('ERC20Template');

export function createAssetProvenance(provider: JsonRpcProvider, factoryAddress: string) {
  const factory = getAddress(factoryAddress);
  const known = new Map<string, Promise<Provenance>>();

  /** A view's result, or null when the call reverts or the address holds no such contract. */
  async function view(to: string, iface: typeof nftIface, fn: string, args: unknown[]): Promise<unknown> {
    let raw: string;
    try {
      raw = await provider.call({ to, data: iface.encodeFunctionData(fn, args) });
    } catch (err) {
      if ((err as { code?: string }).code === 'CALL_EXCEPTION') return null;
      throw err;
    }
    try {
      return iface.decodeFunctionResult(fn, raw)[0];
    } catch {
      return null; // no contract there, or not this one
    }
  }

  async function ask(datatoken: string, nft: string): Promise<Provenance> {
    // Four independent views, in parallel: one round trip.
    const [dtNft, deployed, dtListed, nftListed] = await Promise.all([
      view(datatoken, dtIface, 'getERC721Address', []),
      view(nft, nftIface, 'isDeployed', [datatoken]),
      view(factory, factoryIface, 'erc20List', [datatoken]),
      view(factory, factoryIface, 'erc721List', [nft]),
    ]);
    if (typeof dtNft !== 'string' || getAddress(dtNft) !== nft || deployed !== true) {
      return { ok: false, reason: 'datatoken_not_of_nft', detail: `datatoken ${datatoken} was not deployed by the model's NFT ${nft}` };
    }
    if (dtListed !== true || typeof nftListed !== 'string' || getAddress(nftListed) !== nft) {
      return { ok: false, reason: 'not_from_factory', detail: `NFT ${nft} and datatoken ${datatoken} were not both deployed by Ocean's factory ${factory}` };
    }
    return { ok: true };
  }

  return {
    factoryAddress: factory,
    /** Cached per (datatoken, NFT), refusals included; an RPC failure is thrown and not cached. */
    check(datatokenAddress: string, nftAddress: string): Promise<Provenance> {
      const datatoken = getAddress(datatokenAddress);
      const nft = getAddress(nftAddress);
      const key = `${datatoken}|${nft}`;
      let pending = known.get(key);
      if (!pending) {
        pending = ask(datatoken, nft).catch((err) => {
          known.delete(key);
          throw toOceanError(err, `checking datatoken ${datatoken}`);
        });
        known.set(key, pending);
      }
      return pending;
    },
  };
}

export type AssetProvenance = ReturnType<typeof createAssetProvenance>;
