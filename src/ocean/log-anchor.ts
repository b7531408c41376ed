// Anchors transparency-log tree heads on chain: the marketplace's own data NFT stores the latest
// (tree size, root hash) as ERC725 data, UTF-8 JSON text that ocean.js `Nft.getData` reads, so a
// verifier can check a head against the chain without trusting the gateway. Each anchor is one
// `setNewData` transaction emitting `DataChanged`; it counts once it has the chain's confirmations,
// and one a reorg removes before then is sent again.
import { getAddress, type JsonRpcProvider, type Log, ZeroAddress } from 'ethers';
import { decodeHead, encodeHead, LOG_HEAD_KEY } from '../verifier/chain-abi.js';
import { contractInterface, parseEventLog } from './contract-artifacts.js';
import { GAS } from './gas-limits.js';
import type { ManagedSigner } from './nonce-manager.js';
import type { OceanAddresses } from './ocean-addresses.js';
import { OceanError } from './ocean-error.js';
import { DEFAULT_RETRY, withRetry } from './retry-policy.js';
import { toOceanError } from './rpc-errors.js';

export interface AnchoredHead {
  treeSize: number;
  rootHash: string;
  nftAddress: string;
  txHash: string;
  blockNumber: number;
}

// One codec with the verifier (chain-abi.ts), which reads anchors without the gateway's code.
export { decodeHead, encodeHead, LOG_HEAD_KEY };

export function createLogAnchor(deps: { publisher: ManagedSigner; addresses: OceanAddresses }) {
  const factory = contractInterface('ERC721Factory');
  const nft = contractInterface('ERC721Template');
  return {
    /** Reuses `existing` if it is a contract on this chain, else deploys the marketplace's log NFT. */
    async ensureNft(provider: JsonRpcProvider, existing?: string | null): Promise<string> {
      if (existing && (await provider.getCode(existing)) !== '0x') return getAddress(existing);
      const data = factory.encodeFunctionData('deployERC721Contract', [
        'Posthuman Transparency Log',
        'PHLOG',
        1,
        ZeroAddress,
        ZeroAddress,
        '',
        false,
        deps.publisher.address,
      ]);
      try {
        const receipt = await deps.publisher.sendAndWait({ to: deps.addresses.ERC721Factory, data, gasLimit: GAS.createModel });
        for (const log of receipt.logs) {
          const parsed = safeParse(factory, log);
          if (parsed?.name === 'NFTCreated') return getAddress(parsed.args.newTokenAddress as string);
        }
        throw new OceanError('publish_failed', 'the factory emitted no NFTCreated for the log NFT');
      } catch (err) {
        throw toOceanError(err, 'deploying the transparency-log NFT');
      }
    },

    async anchor(nftAddress: string, treeSize: number, rootHash: string): Promise<{ txHash: string; blockNumber: number }> {
      const data = nft.encodeFunctionData('setNewData', [LOG_HEAD_KEY, encodeHead(treeSize, rootHash)]);
      // A dropped anchor (a reorg before its confirmations) is sent again: the same value, a new tx.
      const receipt = await withRetry('anchoring a tree head', DEFAULT_RETRY, () =>
        deps.publisher.sendAndWait({ to: nftAddress, data, gasLimit: GAS.setNewData }),
      );
      return { txHash: receipt.hash, blockNumber: receipt.blockNumber };
    },
  };
}

function safeParse(iface: ReturnType<typeof contractInterface>, log: Log) {
  try {
    return parseEventLog(iface, log);
  } catch {
    return null;
  }
}

/** Reads the head an anchoring transaction wrote, from its `DataChanged` event; null if none. */
export async function readAnchorTx(provider: JsonRpcProvider, txHash: string): Promise<AnchoredHead | null> {
  const receipt = await provider.getTransactionReceipt(txHash).catch((err) => {
    throw toOceanError(err, `reading anchor ${txHash}`);
  });
  if (!receipt || receipt.status !== 1) return null;
  const nft = contractInterface('ERC721Template');
  for (const log of receipt.logs) {
    const parsed = safeParse(nft, log);
    if (parsed?.name === 'DataChanged' && parsed.args.key === LOG_HEAD_KEY) {
      return { ...decodeHead(parsed.args.value as string), nftAddress: getAddress(log.address), txHash, blockNumber: receipt.blockNumber };
    }
  }
  return null;
}
