// Every check a receipt holder can run, in one place for the CLI (`posthuman verify`) and the
// server (`POST /v1/receipts/verify`): signature, attestation, weights and order on chain, and
// inclusion under a tree head whose root is anchored on chain.
//
// Trusted inputs: `jwks` (keys the caller pinned, or the gateway's published JWKS), `provider` (the
// caller's own chain RPC) and `expected` (addresses pinned, or read from the gateway's tree-head
// answer, which is not signed). Everything else the gateway hands over (`anchoredHead`, the proofs
// `fetchInclusion` returns) is checked against the gateway's signature and the chain before it
// counts. Not checked: that the log's NFT is the only one the gateway anchors on (a split view
// across two NFTs), that the datatoken came from Ocean's factory, or that an order paid for one job.
import { getAddress, type JsonRpcProvider, ZeroAddress } from 'ethers';
import { contractInterface } from '../ocean/contract-artifacts.js';
import { generateDid } from '../ocean/ddo-builder.js';
import { readAnchorTx } from '../ocean/log-anchor.js';
import { readWeightsSha256FromChain } from '../ocean/model-publisher.js';
import { validateOrder } from '../ocean/order-validator.js';
import type { TrustedKeys } from './jws-compact.js';
import type { InclusionProof, SignedTreeHead } from './log-types.js';
import type { ReceiptPayload } from './receipt-builder.js';
import { verifyReceiptInclusion, verifyReceiptSignature } from './receipt-verifier.js';
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
  provider: JsonRpcProvider | null;
  /** The log's inclusion proof of a receipt against the signed head of `treeSize`. */
  fetchInclusion: (receiptId: string, treeSize: number) => Promise<InclusionProof>;
  /** The newest tree head anchored on chain (`latest_anchored` of the tree-head answer). */
  anchoredHead: SignedTreeHead | null;
  /** Why `anchoredHead` is null when it could not be read at all (the gateway did not answer). */
  anchoredHeadError?: string;
  expected?: {
    /** The gateway's ordering wallet: the order's consumer (or payer) must be it. */
    consumer?: string;
    /** The provider-fee address the order must pay; unchecked when absent. */
    provider?: string;
  };
}

export const ANCHOR_HINT = 'anchor the log (POST /v1/admin/log/anchor) and verify again';
const NO_RPC = 'not checked: no chain RPC to read from';

const outcome = (check: ReceiptCheckName, ok: boolean, detail: string): ReceiptCheckOutcome => ({ check, ok, detail });
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

type Chain = { provider: JsonRpcProvider } | { error: string };

/** Gives the provider only when the RPC really serves `chainId` (asked once, not taken from config). */
function chainAccess(provider: JsonRpcProvider | null) {
  let served: Promise<number> | undefined;
  return async (chainId: number, what: string): Promise<Chain> => {
    if (!provider) return { error: NO_RPC };
    served ??= provider.send('eth_chainId', []).then((id: string) => Number(BigInt(id)));
    let actual: number;
    try {
      actual = await served;
    } catch (err) {
      return { error: `the chain RPC did not answer: ${messageOf(err)}` };
    }
    if (actual !== chainId) return { error: `the RPC serves chain ${actual}, but the ${what} is on chain ${chainId}` };
    return { provider };
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
  const chain = chainAccess(input.provider);
  checks.push(await guarded('weights', () => checkWeights(receipt, chain)));
  checks.push(await guarded('order', () => checkOrder(receipt, chain, input.expected ?? {})));
  checks.push(await guarded('inclusion', () => checkInclusion(input, receipt, chain)));
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
async function nftOf(provider: JsonRpcProvider, datatoken: string): Promise<string> {
  const erc20 = contractInterface('ERC20Template');
  const raw = await provider.call({ to: datatoken, data: erc20.encodeFunctionData('getERC721Address', []) });
  if (raw === '0x') throw new Error(`no datatoken contract at ${datatoken}`);
  const nft = getAddress(erc20.decodeFunctionResult('getERC721Address', raw)[0] as string);
  const erc721 = contractInterface('ERC721Template');
  const deployed = await provider.call({ to: nft, data: erc721.encodeFunctionData('isDeployed', [datatoken]) });
  if (deployed === '0x' || !erc721.decodeFunctionResult('isDeployed', deployed)[0]) {
    throw new Error(`datatoken ${datatoken} names NFT ${nft}, which did not create it`);
  }
  return nft;
}

async function checkWeights(receipt: ReceiptPayload, chainFor: ChainAccess): Promise<ReceiptCheckOutcome> {
  const fail = (detail: string) => outcome('weights', false, detail);
  const { datatoken, did, chain_id: chainId, weights_sha256: claimed } = receipt.model;
  if (!datatoken || chainId === null) return fail('the receipt names no Ocean asset (the job ran without a chain)');
  const chain = await chainFor(chainId, 'model');
  if ('error' in chain) return fail(chain.error);
  let nft: string;
  try {
    nft = await nftOf(chain.provider, getAddress(datatoken));
  } catch (err) {
    return fail(`reading the model's NFT: ${messageOf(err)}`);
  }
  const registered = await readWeightsSha256FromChain(chain.provider, nft);
  if (registered === null) return fail(`NFT ${nft} registers no weights sha256`);
  if (registered !== claimed) return fail(`NFT ${nft} registers weights ${registered}, the receipt says ${claimed}`);
  const expectedDid = generateDid(nft, chainId);
  if (did !== expectedDid) return fail(`the receipt's DID ${String(did)} is not ${expectedDid}, the DID of NFT ${nft}`);
  return outcome('weights', true, `weights ${claimed.slice(0, 12)}… registered on NFT ${nft} (${did})`);
}

async function checkOrder(
  receipt: ReceiptPayload,
  chainFor: ChainAccess,
  expected: NonNullable<CheckReceiptInput['expected']>,
): Promise<ReceiptCheckOutcome> {
  const fail = (detail: string) => outcome('order', false, detail);
  const { tx_hash: txHash, chain_id: chainId } = receipt.order;
  const datatoken = receipt.model.datatoken;
  if (!txHash || chainId === null) return fail('the receipt names no Ocean order (the job ran without a chain)');
  if (!datatoken) return fail('the receipt names no datatoken to check its order against');
  if (!expected.consumer) return fail('not checked: no expected consumer (pin one, or read ocean.consumer_address of the tree head)');
  const chain = await chainFor(chainId, 'order');
  if ('error' in chain) return fail(chain.error);
  // No validity window (nowSeconds 0): the worker checked it when the job ran; a receipt is
  // verified long after its order's service timeout.
  const validation = await validateOrder(chain.provider, {
    txHash,
    datatokenAddress: datatoken,
    expectedConsumer: expected.consumer,
    serviceIndex: 0,
    providerAddress: expected.provider ?? ZeroAddress,
    validitySeconds: 0,
    nowSeconds: 0,
  });
  if (validation.ok) {
    const { order } = validation;
    return outcome('order', true, `${order.kind === 'reuse' ? 'reused order' : 'order'} ${txHash} in block ${order.blockNumber}, consumer ${order.consumer}`);
  }
  // Every other condition is checked before the fee's payee, so this one means "all else held".
  if (validation.reason === 'wrong_provider' && !expected.provider) {
    return outcome('order', true, `order ${txHash} on datatoken ${datatoken} by ${expected.consumer} (provider fee payee not checked)`);
  }
  return fail(`${validation.reason}: ${validation.detail}`);
}

async function checkInclusion(input: CheckReceiptInput, receipt: ReceiptPayload, chainFor: ChainAccess): Promise<ReceiptCheckOutcome> {
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
  const chain = await chainFor(head.anchor.chain_id, 'anchor');
  if ('error' in chain) return fail(chain.error);
  const anchored = await readAnchorTx(chain.provider, head.anchor.tx_hash);
  if (!anchored) return fail(`transaction ${head.anchor.tx_hash} anchors no tree head`);
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
    `log entry ${index} of ${head.tree_size}; root anchored by ${head.anchor.tx_hash} (block ${anchored.blockNumber}, NFT ${anchored.nftAddress})`,
  );
}
