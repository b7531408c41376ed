// Every check a receipt holder can run, in one place for the CLI (`posthuman verify`), the gateway
// (`POST /v1/receipts/verify`) and a browser: signature, attestation, weights and order on chain,
// and inclusion under a tree head whose root the marketplace anchored on chain.
//
// Trusted inputs: `jwks` (keys the caller pinned, or fetched from the gateway), `rpc` (the caller's
// own chain node) and `identity` (the marketplace's log NFT, anchoring and consumer addresses, pinned
// or read from its /.well-known document). Everything else the gateway hands over (`anchoredHead`,
// the proofs `fetchInclusion` returns) is checked against the gateway's signature and the chain
// before it counts. Not checked: that the log NFT holds no other head for the same size (a split
// view), that the datatoken came from Ocean's factory, or that an order paid for one job only.
import { getAddress } from 'ethers';
import type { InclusionProof, SignedTreeHead } from '../receipts/log-types.js';
import { readPinnedAnchor } from './anchor-check.js';
import { decodeWeightsValue, ERC20_ABI, ERC721_ABI, generateDid, WEIGHTS_SHA256_KEY } from './chain-abi.js';
import { ethCall, type JsonRpc, readChainId } from './json-rpc.js';
import type { TrustedKeys } from './keys.js';
import type { MarketplaceIdentity } from './marketplace-document.js';
import { checkOrderOnChain } from './order-check.js';
import type { ReceiptPayload } from './receipt-payload.js';
import { verifyReceiptInclusion, verifyReceiptSignature } from './receipt-signature.js';
import { verifyTreeHead } from './tree-head.js';

export const RECEIPT_CHECKS = ['signature', 'attestation', 'weights', 'order', 'inclusion'] as const;
export type ReceiptCheckName = (typeof RECEIPT_CHECKS)[number];

export interface ReceiptCheckOutcome {
  check: ReceiptCheckName;
  ok: boolean;
  detail: string;
}

export interface ReceiptReport {
  /** True only when every check passed. */
  ok: boolean;
  checks: ReceiptCheckOutcome[];
  /** The payload, when the gateway's signature on it verified. */
  receipt: ReceiptPayload | undefined;
}

export interface CheckReceiptInput {
  /** The receipt as a compact JWS. */
  jws: string;
  jwks: TrustedKeys;
  /** The chain to check weights, order and anchor against; null fails those checks. */
  rpc: JsonRpc | null;
  /** The log's inclusion proof of a receipt against the signed head of `treeSize`. */
  fetchInclusion: (receiptId: string, treeSize: number) => Promise<InclusionProof>;
  /** The newest tree head anchored on chain (`latest_anchored` of the tree-head answer). */
  anchoredHead: SignedTreeHead | null;
  /** Why `anchoredHead` is null when it could not be read at all (the gateway did not answer). */
  anchoredHeadError?: string;
  /** Whom the chain must show acting: the order's consumer, the anchor's sender and NFT. */
  identity?: MarketplaceIdentity;
}

export const ANCHOR_HINT = 'anchor the log (POST /v1/admin/log/anchor) and verify again';
const NO_RPC = 'not checked: no chain RPC to read from';

const outcome = (check: ReceiptCheckName, ok: boolean, detail: string): ReceiptCheckOutcome => ({ check, ok, detail });
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

type Chain = { rpc: JsonRpc } | { error: string };

/** Gives the RPC only when it really serves `chainId` (asked once, not taken from config). */
function chainAccess(rpc: JsonRpc | null) {
  let served: Promise<number> | undefined;
  return async (chainId: number, what: string): Promise<Chain> => {
    if (!rpc) return { error: NO_RPC };
    served ??= readChainId(rpc);
    let actual: number;
    try {
      actual = await served;
    } catch (err) {
      return { error: `the chain RPC did not answer: ${messageOf(err)}` };
    }
    if (actual !== chainId) return { error: `the RPC serves chain ${actual}, but the ${what} is on chain ${chainId}` };
    return { rpc };
  };
}
type ChainAccess = ReturnType<typeof chainAccess>;

export async function checkReceipt(input: CheckReceiptInput): Promise<ReceiptReport> {
  const signed = await verifyReceiptSignature(input.jws, input.jwks);
  const checks: ReceiptCheckOutcome[] = signed.checks.map((c) => outcome(c.check, c.ok, c.detail));
  const receipt = signed.receipt;
  if (!receipt) {
    // Nothing in a payload nobody vouched for is worth looking up.
    for (const check of ['weights', 'order', 'inclusion'] as const) {
      checks.push(outcome(check, false, 'not checked: the receipt signature did not verify'));
    }
    return { ok: false, checks, receipt };
  }
  const chain = chainAccess(input.rpc);
  const identity = input.identity ?? {};
  checks.push(await guarded('weights', () => checkWeights(receipt, chain)));
  checks.push(await guarded('order', () => checkOrder(receipt, chain, identity)));
  checks.push(await guarded('inclusion', () => checkInclusion(input, receipt, chain, identity)));
  return { ok: checks.every((c) => c.ok), checks, receipt };
}

/** A check that throws (an RPC down, a proof the gateway refused) fails; it never passes. */
async function guarded(check: ReceiptCheckName, run: () => Promise<ReceiptCheckOutcome>): Promise<ReceiptCheckOutcome> {
  try {
    return await run();
  } catch (err) {
    return outcome(check, false, messageOf(err));
  }
}

/** The NFT that minted `datatoken` (ERC20Template.getERC721Address), confirmed by the NFT itself. */
async function nftOf(rpc: JsonRpc, datatoken: string): Promise<string> {
  const raw = await ethCall(rpc, datatoken, ERC20_ABI.encodeFunctionData('getERC721Address', []));
  if (raw === '0x') throw new Error(`no datatoken contract at ${datatoken}`);
  const nft = getAddress(ERC20_ABI.decodeFunctionResult('getERC721Address', raw)[0] as string);
  const deployed = await ethCall(rpc, nft, ERC721_ABI.encodeFunctionData('isDeployed', [datatoken]));
  if (deployed === '0x' || !ERC721_ABI.decodeFunctionResult('isDeployed', deployed)[0]) {
    throw new Error(`datatoken ${datatoken} names NFT ${nft}, which did not create it`);
  }
  return nft;
}

/** The weights' sha256 (64 hex, no 0x) registered on the NFT, or null if none is set. */
async function registeredWeights(rpc: JsonRpc, nft: string): Promise<string | null> {
  const raw = await ethCall(rpc, nft, ERC721_ABI.encodeFunctionData('getData', [WEIGHTS_SHA256_KEY]));
  if (raw === '0x') throw new Error(`no data NFT at ${nft}`);
  return decodeWeightsValue(ERC721_ABI.decodeFunctionResult('getData', raw)[0] as string);
}

async function checkWeights(receipt: ReceiptPayload, chainFor: ChainAccess): Promise<ReceiptCheckOutcome> {
  const registered = await checkRegisteredWeights(receipt, chainFor);
  const node = receipt.served_by?.node;
  if (!node) return registered;
  // An external node ran it: the registration says what the model is, not what the node ran.
  return outcome(
    'weights',
    false,
    `not proven: Ocean compute node ${node.address} ran this job (its job ${node.job_id}); nothing attests which weights it ran (the model asset: ${registered.detail})`,
  );
}

async function checkRegisteredWeights(receipt: ReceiptPayload, chainFor: ChainAccess): Promise<ReceiptCheckOutcome> {
  const fail = (detail: string) => outcome('weights', false, detail);
  const { datatoken, did, chain_id: chainId, weights_sha256: claimed } = receipt.model;
  if (!datatoken || chainId === null) return fail('the receipt names no Ocean asset (the job ran without a chain)');
  const chain = await chainFor(chainId, 'model');
  if ('error' in chain) return fail(chain.error);
  let nft: string;
  try {
    nft = await nftOf(chain.rpc, getAddress(datatoken));
  } catch (err) {
    return fail(`reading the model's NFT: ${messageOf(err)}`);
  }
  const registered = await registeredWeights(chain.rpc, nft);
  if (registered === null) return fail(`NFT ${nft} registers no weights sha256`);
  if (registered !== claimed) return fail(`NFT ${nft} registers weights ${registered}, the receipt says ${claimed}`);
  const expectedDid = await generateDid(nft, chainId);
  if (did !== expectedDid) return fail(`the receipt's DID ${String(did)} is not ${expectedDid}, the DID of NFT ${nft}`);
  return outcome('weights', true, `weights ${claimed.slice(0, 12)}… registered on NFT ${nft} (${did})`);
}

async function checkOrder(receipt: ReceiptPayload, chainFor: ChainAccess, identity: MarketplaceIdentity): Promise<ReceiptCheckOutcome> {
  const fail = (detail: string) => outcome('order', false, detail);
  const { tx_hash: txHash, chain_id: chainId } = receipt.order;
  const datatoken = receipt.model.datatoken;
  if (!txHash || chainId === null) return fail('the receipt names no Ocean order (the job ran without a chain)');
  if (!datatoken) return fail('the receipt names no datatoken to check its order against');
  const consumer = identity.consumer;
  if (!consumer) return fail("not checked: no expected consumer (pin one with --consumer or --marketplace, or read the marketplace's /.well-known document)");
  const chain = await chainFor(chainId, 'order');
  if ('error' in chain) return fail(chain.error);
  const checked = await checkOrderOnChain(chain.rpc, { txHash, datatoken, consumer, provider: identity.provider ?? undefined });
  if (!checked.ok) return fail(`${checked.reason}: ${checked.detail}`);
  const { order } = checked;
  const payee = identity.provider ? '' : ' (provider fee payee not checked)';
  return outcome('order', true, `${order.kind === 'reuse' ? 'reused order' : 'order'} ${txHash} in block ${order.blockNumber}, consumer ${order.consumer}${payee}`);
}

async function checkInclusion(
  input: CheckReceiptInput,
  receipt: ReceiptPayload,
  chainFor: ChainAccess,
  identity: MarketplaceIdentity,
): Promise<ReceiptCheckOutcome> {
  const fail = (detail: string) => outcome('inclusion', false, detail);
  const head = input.anchoredHead;
  const index = receipt.log_index;
  if (!head && input.anchoredHeadError) return fail(`no anchored tree head to check against: ${input.anchoredHeadError}`);
  if (!head) return fail(`no tree head is anchored on chain yet: ${ANCHOR_HINT}`);
  if (head.tree_size <= index) {
    return fail(`the newest anchored tree head (size ${head.tree_size}) does not cover log entry ${index} yet: ${ANCHOR_HINT}`);
  }
  const signature = await verifyTreeHead(head, input.jwks);
  if (!signature.ok) return fail(`anchored tree head: ${signature.detail}`);
  if (!head.anchor) return fail(`tree head ${head.tree_size} names no anchor transaction`);
  if (identity.chainId != null && head.anchor.chain_id !== identity.chainId) {
    return fail(`the anchor is on chain ${head.anchor.chain_id}, the marketplace anchors on chain ${identity.chainId}`);
  }
  const chain = await chainFor(head.anchor.chain_id, 'anchor');
  if ('error' in chain) return fail(chain.error);
  const { logNft, anchorer } = identity;
  if (!logNft || !anchorer) {
    const missing = [!logNft && 'log NFT', !anchorer && 'anchoring address'].filter(Boolean).join(' and ');
    return fail(`not checked: no ${missing} of the marketplace to check the anchor against (pin them with --marketplace, --log-nft, --anchorer)`);
  }
  const anchored = await readPinnedAnchor(chain.rpc, head.anchor.tx_hash, { logNft, anchorer });
  if (!anchored.ok) return fail(anchored.detail);
  if (anchored.treeSize !== head.tree_size || !same(anchored.rootHash, head.root_hash)) {
    return fail(
      `the chain anchors size ${anchored.treeSize} root ${anchored.rootHash}, the gateway's head says size ${head.tree_size} root ${head.root_hash}`,
    );
  }
  let proof: InclusionProof;
  try {
    proof = await input.fetchInclusion(receipt.receipt_id, head.tree_size);
  } catch (err) {
    return fail(`no inclusion proof under the anchored head: ${messageOf(err)}`);
  }
  if (proof.tree_head.tree_size !== head.tree_size || !same(proof.tree_head.root_hash, head.root_hash)) {
    return fail(`the proof is against tree size ${proof.tree_head.tree_size}, not the anchored head (size ${head.tree_size})`);
  }
  const included = await verifyReceiptInclusion(input.jws, proof, input.jwks);
  if (!included.ok) return fail(included.detail);
  return outcome(
    'inclusion',
    true,
    `log entry ${index} of ${head.tree_size}; root anchored by ${head.anchor.tx_hash} (block ${anchored.blockNumber}, NFT ${anchored.nftAddress}, sent by ${anchorer})`,
  );
}
