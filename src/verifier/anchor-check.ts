// Reads a tree-head anchor from the chain and accepts it only from the marketplace: a transaction
// the pinned anchoring address sent to the pinned log NFT, whose `DataChanged` under the log key
// was emitted by that NFT. An anchor written by anyone else, anywhere else, anchors nothing.
import { ERC721_ABI, decodeHead, LOG_HEAD_KEY, parseLog, sameAddress } from './chain-abi.js';
import { type JsonRpc, readReceipt } from './json-rpc.js';

export interface AnchorPins {
  /** The marketplace's log NFT. */
  logNft: string;
  /** The wallet that sends the marketplace's anchoring transactions. */
  anchorer: string;
}

export type AnchorRead =
  | { ok: true; treeSize: number; rootHash: string; blockNumber: number; nftAddress: string }
  | { ok: false; detail: string };

export async function readPinnedAnchor(rpc: JsonRpc, txHash: string, pins: AnchorPins): Promise<AnchorRead> {
  const fail = (detail: string): AnchorRead => ({ ok: false, detail });
  if (!/^0x[0-9a-fA-F]{64}$/.test(txHash)) return fail(`the anchor ${txHash.slice(0, 80)} is not a transaction hash`);
  const receipt = await readReceipt(rpc, txHash);
  if (!receipt) return fail(`no mined transaction ${txHash} on this chain`);
  if (receipt.status !== 1) return fail(`anchor transaction ${txHash} reverted`);
  if (!sameAddress(receipt.from, pins.anchorer)) {
    return fail(`anchor transaction ${txHash} was sent by ${receipt.from}, not by the marketplace's anchoring address ${pins.anchorer}`);
  }
  if (!receipt.to || !sameAddress(receipt.to, pins.logNft)) {
    return fail(`anchor transaction ${txHash} was sent to ${receipt.to ?? 'no contract'}, not to the marketplace's log NFT ${pins.logNft}`);
  }
  const heads = receipt.logs
    .map((log) => ({ log, event: parseLog(ERC721_ABI, log) }))
    .filter(({ event }) => event?.name === 'DataChanged' && event.args.key === LOG_HEAD_KEY);
  const own = heads.filter(({ log }) => sameAddress(log.address, pins.logNft));
  if (own.length === 0) {
    if (heads.length > 0) return fail(`transaction ${txHash} anchors a tree head on ${heads[0].log.address}, not on the log NFT ${pins.logNft}`);
    return fail(`transaction ${txHash} anchors no tree head`);
  }
  // One transaction writes one head; more than one from the log NFT is not an anchor we wrote.
  if (own.length > 1) return fail(`transaction ${txHash} writes ${own.length} tree heads`);
  const head = decodeHead(own[0].event!.args.value as string);
  return { ok: true, ...head, blockNumber: receipt.blockNumber, nftAddress: own[0].log.address };
}
