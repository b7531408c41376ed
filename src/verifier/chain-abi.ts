// The few Ocean contract functions and events the verifier reads, as human-readable ABI (the
// compiled artifacts stay on the gateway), and the ERC725 keys the marketplace writes.
import { AbiCoder, getAddress, hexlify, Interface, keccak256, type LogDescription, toUtf8Bytes, toUtf8String } from 'ethers';
import type { RpcLog } from './json-rpc.js';
import { sha256Hex } from './sha256.js';

export const ERC20_ABI = new Interface([
  'function getERC721Address() view returns (address)',
  'event OrderStarted(address indexed consumer, address payer, uint256 amount, uint256 serviceIndex, uint256 timestamp, address indexed publishMarketAddress, uint256 blockNumber)',
  'event OrderReused(bytes32 orderTxId, address caller, uint256 timestamp, uint256 number)',
  'event ProviderFee(address indexed providerFeeAddress, address indexed providerFeeToken, uint256 providerFeeAmount, bytes providerData, uint8 v, bytes32 r, bytes32 s, uint256 validUntil)',
]);

export const ERC721_ABI = new Interface([
  'function getData(bytes32 _key) view returns (bytes _value)',
  'function isDeployed(address datatoken) view returns (bool)',
  'event DataChanged(bytes32 indexed key, bytes value)',
]);

/** ERC725 key of the log NFT's latest anchored (tree size, root). */
export const LOG_HEAD_KEY = keccak256(toUtf8Bytes('posthuman.log.tree_head'));
/** ERC725 key of a model NFT's weights sha256. */
export const WEIGHTS_SHA256_KEY = keccak256(toUtf8Bytes('posthuman.weights_sha256'));

/**
 * The weights sha256 (64 lower-case hex) an NFT stores under WEIGHTS_SHA256_KEY, or null. Written as
 * UTF-8 text, so ocean.js `Nft.getData` reads it back; assets published before that hold the raw 32
 * bytes, still accepted.
 */
export function decodeWeightsValue(value: string): string | null {
  const hex = value.replace(/^0x/, '').toLowerCase();
  if (hex.length === 64) return hex;
  if (hex.length === 128 && /^[0-9a-f]+$/.test(hex)) {
    let text = '';
    for (let i = 0; i < hex.length; i += 2) text += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16));
    if (/^[0-9a-f]{64}$/.test(text)) return text;
  }
  return null;
}

/**
 * The value an anchor writes under LOG_HEAD_KEY: UTF-8 JSON text, `{"tree_size":N,"root_hash":"<64 hex>"}`,
 * so ocean.js `Nft.getData(nft, hexlify(toUtf8Bytes('posthuman.log.tree_head')))` reads it back.
 */
export function encodeHead(treeSize: number, rootHash: string): string {
  return hexlify(toUtf8Bytes(JSON.stringify({ tree_size: treeSize, root_hash: rootHash.replace(/^0x/, '').toLowerCase() })));
}

/**
 * The (tree size, root hex without 0x) an anchor wrote under LOG_HEAD_KEY: the JSON text above, or the
 * ABI-encoded (uint256, bytes32) that anchors before it hold.
 */
export function decodeHead(value: string): { treeSize: number; rootHash: string } {
  if (value.toLowerCase().startsWith('0x7b')) {
    const parsed = JSON.parse(toUtf8String(value)) as { tree_size?: unknown; root_hash?: unknown };
    if (!Number.isSafeInteger(parsed.tree_size) || typeof parsed.root_hash !== 'string' || !/^[0-9a-f]{64}$/.test(parsed.root_hash)) {
      throw new Error('the anchored head is not {"tree_size","root_hash"}');
    }
    return { treeSize: parsed.tree_size as number, rootHash: parsed.root_hash };
  }
  const [size, root] = AbiCoder.defaultAbiCoder().decode(['uint256', 'bytes32'], value);
  return { treeSize: Number(size), rootHash: (root as string).slice(2) };
}

/** The event `log` encodes under `iface`, or null (another contract's event with the same topic but another layout). */
export function parseLog(iface: Interface, log: RpcLog): LogDescription | null {
  try {
    return iface.parseLog({ topics: log.topics, data: log.data });
  } catch {
    return null;
  }
}

/** `did:op:` + sha256(checksummed NFT address + decimal chain id), as ocean.js generateDid. */
export async function generateDid(nftAddress: string, chainId: number): Promise<string> {
  return `did:op:${await sha256Hex(getAddress(nftAddress) + chainId.toString(10))}`;
}

export const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
