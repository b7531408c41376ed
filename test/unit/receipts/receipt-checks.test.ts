// checkReceipt without a chain node: what must fail (never pass silently) when the chain, an anchor
// or a proof is missing, and the inclusion check against anchor transactions on a faked RPC: only
// the marketplace's anchoring address writing to its log NFT anchors a head.
import { randomUUID } from 'node:crypto';
import { getAddress } from 'ethers';
import { beforeAll, describe, expect, it } from 'vitest';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { encodeHead, LOG_HEAD_KEY } from '../../../src/ocean/log-anchor.js';
import type { InclusionProof, SignedTreeHead } from '../../../src/receipts/log-types.js';
import * as merkle from '../../../src/receipts/merkle.js';
import { type CheckReceiptInput, checkReceipt, type JsonRpc, type MarketplaceIdentity, RECEIPT_CHECKS } from '../../../src/verifier/index.js';
import { signTreeHead } from '../../../src/receipts/tree-head.js';
import { inferJob, signedReceipt, type TestKey, testKey } from './receipt-fixture.js';

const ANCHOR_TX = `0x${'a1'.repeat(32)}`;
const LOG_NFT = getAddress(`0x${'42'.repeat(20)}`);
const ANCHORER = getAddress(`0x${'a0'.repeat(20)}`);
const OTHER = getAddress(`0x${'bb'.repeat(20)}`);
const PINS: MarketplaceIdentity = { chainId: 8996, logNft: LOG_NFT, anchorer: ANCHORER };

let gateway: TestKey;
let worker: TestKey;
let jwks: { keys: TestKey['jwk'][] };
let receipt: Awaited<ReturnType<typeof signedReceipt>>;
let leaves: merkle.Hash[];

beforeAll(async () => {
  gateway = await testKey('gateway');
  worker = await testKey('worker', 'worker-1');
  jwks = { keys: [gateway.jwk, worker.jwk] };
  receipt = await signedReceipt({ gateway, worker, logIndex: 3 });
  leaves = [0, 1, 2].map((i) => merkle.leafHash(`other-${i}`));
  leaves.push(merkle.leafHash(receipt.jws), merkle.leafHash('later'));
});

async function head(size: number, signer = gateway, anchor: SignedTreeHead['anchor'] = { tx_hash: ANCHOR_TX, chain_id: 8996 }): Promise<SignedTreeHead> {
  const body = { tree_size: size, root_hash: merkle.toHex(merkle.rootHash(leaves.slice(0, size))), timestamp: '2026-11-27T10:00:00.000Z' };
  return { ...body, signature: await signTreeHead(signer.signer, body), anchor };
}

function proofUnder(h: SignedTreeHead, receiptId: string): InclusionProof {
  const hashes = merkle.inclusionProof(3, leaves.slice(0, h.tree_size)).map(merkle.toHex);
  return { receipt_id: receiptId, log_index: 3, leaf_hash: merkle.toHex(leaves[3]), tree_size: h.tree_size, hashes, tree_head: h };
}

/** The anchoring transaction as the chain holds it: who sent it where, and which contract emitted the head. */
interface AnchorTx {
  size: number;
  root: string;
  from?: string;
  to?: string;
  emitter?: string;
  key?: string;
  status?: number;
}

/** Just enough of a JSON-RPC node for the anchor check: the chain id and one anchoring transaction. */
function fakeChain(anchored: AnchorTx, chainId = 8996): JsonRpc {
  const nft = contractInterface('ERC721Template');
  const log = nft.encodeEventLog('DataChanged', [anchored.key ?? LOG_HEAD_KEY, encodeHead(anchored.size, anchored.root)]);
  return async (method: string, params: unknown[]) => {
    if (method === 'eth_chainId') return `0x${chainId.toString(16)}`;
    if (method !== 'eth_getTransactionReceipt') throw new Error(`unexpected ${method}`);
    if (params[0] !== ANCHOR_TX) return null;
    return {
      transactionHash: ANCHOR_TX,
      status: `0x${(anchored.status ?? 1).toString(16)}`,
      blockNumber: '0x7',
      from: anchored.from ?? ANCHORER,
      to: anchored.to ?? LOG_NFT,
      logs: [{ address: anchored.emitter ?? LOG_NFT, topics: log.topics, data: log.data }],
    };
  };
}

const noProofs = async (): Promise<InclusionProof> => {
  throw new Error('no proof expected');
};

function run(overrides: Partial<CheckReceiptInput> = {}) {
  return checkReceipt({ jws: receipt.jws, jwks, rpc: null, fetchInclusion: noProofs, anchoredHead: null, identity: PINS, ...overrides });
}
const byName = (report: Awaited<ReturnType<typeof run>>) => Object.fromEntries(report.checks.map((c) => [c.check, c]));

describe('checkReceipt', () => {
  it('reports every check in order, and fails the chain checks when no RPC is given', async () => {
    const report = await run({ identity: { ...PINS, consumer: `0x${'11'.repeat(20)}` } });
    expect(report.checks.map((c) => c.check)).toEqual([...RECEIPT_CHECKS]);
    const checks = byName(report);
    expect(checks.signature.ok).toBe(true);
    expect(checks.attestation.ok).toBe(true);
    expect(checks.weights).toMatchObject({ ok: false, detail: expect.stringContaining('no chain RPC') });
    expect(checks.order).toMatchObject({ ok: false, detail: expect.stringContaining('no chain RPC') });
    expect(report.ok).toBe(false);
  });

  it('looks nothing up for a receipt whose signature fails', async () => {
    const stranger = await testKey('gateway');
    const forged = await signedReceipt({ gateway: stranger, worker, logIndex: 3 });
    const report = await run({ jws: forged.jws, anchoredHead: await head(5) });
    expect(report.receipt).toBeUndefined();
    expect(report.checks.map((c) => [c.check, c.ok])).toEqual(RECEIPT_CHECKS.map((c) => [c, false]));
    expect(byName(report).signature.detail).toContain('not among the trusted keys');
    expect(byName(report).inclusion.detail).toBe('not checked: the receipt signature did not verify');
  });

  it('fails weights and order for a receipt of a job that ran without a chain', async () => {
    const job = inferJob({ orderTxHash: null, orderChainId: null });
    const offChain = await signedReceipt({ gateway, worker, job, forge: (p) => ({ ...p, model: { ...p.model, datatoken: null, did: null, chain_id: null } }) });
    const checks = byName(await run({ jws: offChain.jws, identity: { ...PINS, consumer: `0x${'11'.repeat(20)}` } }));
    expect(checks.weights).toMatchObject({ ok: false, detail: expect.stringContaining('names no Ocean asset') });
    expect(checks.order).toMatchObject({ ok: false, detail: expect.stringContaining('names no Ocean order') });
  });

  it('fails the order without an expected consumer', async () => {
    expect(byName(await run()).order).toMatchObject({ ok: false, detail: expect.stringContaining('no expected consumer') });
  });

  it('tells to anchor when no anchored head covers the receipt', async () => {
    expect(byName(await run()).inclusion).toMatchObject({ ok: false, detail: expect.stringContaining('POST /v1/admin/log/anchor') });
    const early = byName(await run({ anchoredHead: await head(3) })).inclusion;
    expect(early).toMatchObject({ ok: false, detail: expect.stringMatching(/size 3\) does not cover log entry 3.*POST \/v1\/admin\/log\/anchor/) });
    const unreachable = byName(await run({ anchoredHeadError: 'GET http://gw/v1/log/tree-head failed' })).inclusion;
    expect(unreachable).toMatchObject({ ok: false, detail: expect.stringContaining('tree-head failed') });
  });

  it('refuses an anchored head the gateway did not sign, and one it cannot check on chain', async () => {
    const stranger = await testKey('gateway');
    const forgedHead = byName(await run({ anchoredHead: await head(5, stranger) })).inclusion;
    expect(forgedHead).toMatchObject({ ok: false, detail: expect.stringContaining('anchored tree head:') });
    const noRpc = byName(await run({ anchoredHead: await head(5) })).inclusion;
    expect(noRpc).toMatchObject({ ok: false, detail: expect.stringContaining('no chain RPC') });
    const unanchored = byName(await run({ anchoredHead: await head(5, gateway, null) })).inclusion;
    expect(unanchored).toMatchObject({ ok: false, detail: expect.stringContaining('names no anchor transaction') });
  });

  it('passes inclusion when the chain anchors the head and the proof leads to its root', async () => {
    const h = await head(5);
    const asked: [string, number][] = [];
    const fetchInclusion = async (id: string, size: number) => {
      asked.push([id, size]);
      return proofUnder(h, id);
    };
    const inclusion = byName(await run({ anchoredHead: h, rpc: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion })).inclusion;
    expect(inclusion).toMatchObject({ ok: true, detail: expect.stringContaining(`log entry 3 of 5; root anchored by ${ANCHOR_TX}`) });
    expect(asked).toEqual([[receipt.payload.receipt_id, 5]]);
  });

  it('fails inclusion when the chain anchors another root, the RPC is another chain, or the proof does not hold', async () => {
    const h = await head(5);
    const good = async (id: string) => proofUnder(h, id);
    const otherRoot = merkle.toHex(merkle.rootHash(leaves.slice(0, 4)));
    const cases: [Partial<CheckReceiptInput>, string][] = [
      [{ rpc: fakeChain({ size: 5, root: otherRoot }), fetchInclusion: good }, 'the chain anchors size 5 root'],
      [{ rpc: fakeChain({ size: 4, root: h.root_hash }), fetchInclusion: good }, 'the chain anchors size 4'],
      [{ rpc: fakeChain({ size: 5, root: h.root_hash }, 1), fetchInclusion: good }, 'the RPC serves chain 1'],
      [{ rpc: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion: async () => Promise.reject(new Error('404 not found')) }, '404 not found'],
      [{ rpc: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion: async (id) => proofUnder(await head(4), id) }, 'not the anchored head'],
      [
        { rpc: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion: async (id) => ({ ...proofUnder(h, id), hashes: proofUnder(h, id).hashes.reverse() }) },
        'audit path',
      ],
      [
        { rpc: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion: async () => ({ ...proofUnder(h, randomUUID()), leaf_hash: merkle.toHex(leaves[0]) }) },
        'another leaf',
      ],
    ];
    for (const [overrides, detail] of cases) {
      const inclusion = byName(await run({ anchoredHead: h, ...overrides })).inclusion;
      expect(inclusion, detail).toMatchObject({ ok: false, detail: expect.stringContaining(detail) });
    }
  });

  it('accepts an anchor only from the pinned anchoring address, to the pinned log NFT, emitted by it, under the log key', async () => {
    const h = await head(5);
    const good = async (id: string) => proofUnder(h, id);
    const root = h.root_hash;
    const passing = byName(await run({ anchoredHead: h, rpc: fakeChain({ size: 5, root }), fetchInclusion: good })).inclusion;
    expect(passing).toMatchObject({ ok: true, detail: expect.stringContaining(`sent by ${ANCHORER}`) });
    const cases: [Partial<CheckReceiptInput>, string][] = [
      // Another wallet wrote the same head on another NFT: a forged anchor.
      [{ rpc: fakeChain({ size: 5, root, from: OTHER, to: OTHER, emitter: OTHER }) }, `was sent by ${OTHER}, not by the marketplace's anchoring address`],
      // Another wallet wrote it on the marketplace's own NFT.
      [{ rpc: fakeChain({ size: 5, root, from: OTHER }) }, `was sent by ${OTHER}`],
      // The anchorer sent it to another contract, which emitted the head.
      [{ rpc: fakeChain({ size: 5, root, to: OTHER, emitter: OTHER }) }, `was sent to ${OTHER}, not to the marketplace's log NFT`],
      // Sent to the log NFT, but the head was emitted by another contract (called along the way).
      [{ rpc: fakeChain({ size: 5, root, emitter: OTHER }) }, `anchors a tree head on ${OTHER}, not on the log NFT`],
      [{ rpc: fakeChain({ size: 5, root, key: `0x${'00'.repeat(32)}` }) }, 'anchors no tree head'],
      [{ rpc: fakeChain({ size: 5, root, status: 0 }) }, 'reverted'],
      // Right transaction, but the user pinned another anchorer or NFT.
      [{ rpc: fakeChain({ size: 5, root }), identity: { ...PINS, anchorer: OTHER } }, `not by the marketplace's anchoring address ${OTHER}`],
      [{ rpc: fakeChain({ size: 5, root }), identity: { ...PINS, logNft: OTHER } }, `not to the marketplace's log NFT ${OTHER}`],
      [{ rpc: fakeChain({ size: 5, root }), identity: { ...PINS, chainId: 1 } }, 'the marketplace anchors on chain 1'],
      // Nothing to compare against: never a pass.
      [{ rpc: fakeChain({ size: 5, root }), identity: { logNft: LOG_NFT } }, 'not checked: no anchoring address'],
      [{ rpc: fakeChain({ size: 5, root }), identity: {} }, 'not checked: no log NFT and anchoring address'],
    ];
    for (const [overrides, detail] of cases) {
      const inclusion = byName(await run({ anchoredHead: h, fetchInclusion: good, ...overrides })).inclusion;
      expect(inclusion, detail).toMatchObject({ ok: false, detail: expect.stringContaining(detail) });
    }
  });
});
