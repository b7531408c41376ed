// checkReceipt without a chain node: what must fail (never pass silently) when the chain, an anchor
// or a proof is missing, and the inclusion check against an anchor transaction on a faked RPC.
import { randomUUID } from 'node:crypto';
import type { JsonRpcProvider } from 'ethers';
import { beforeAll, describe, expect, it } from 'vitest';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { encodeHead, LOG_HEAD_KEY } from '../../../src/ocean/log-anchor.js';
import type { InclusionProof, SignedTreeHead } from '../../../src/receipts/log-types.js';
import * as merkle from '../../../src/receipts/merkle.js';
import { type CheckReceiptInput, checkReceipt, RECEIPT_CHECKS } from '../../../src/receipts/receipt-checks.js';
import { signTreeHead } from '../../../src/receipts/tree-head.js';
import { inferJob, signedReceipt, type TestKey, testKey } from './receipt-fixture.js';

const ANCHOR_TX = `0x${'a1'.repeat(32)}`;
const LOG_NFT = `0x${'42'.repeat(20)}`;

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

/** Just enough of a JSON-RPC client for readAnchorTx: the chain id and one anchoring transaction. */
function fakeChain(anchored: { size: number; root: string }, chainId = 8996): JsonRpcProvider {
  const nft = contractInterface('ERC721Template');
  const log = nft.encodeEventLog('DataChanged', [LOG_HEAD_KEY, encodeHead(anchored.size, anchored.root)]);
  return {
    send: async (method: string) => {
      if (method !== 'eth_chainId') throw new Error(`unexpected ${method}`);
      return `0x${chainId.toString(16)}`;
    },
    getTransactionReceipt: async (hash: string) =>
      hash === ANCHOR_TX ? { status: 1, blockNumber: 7, logs: [{ address: LOG_NFT, topics: log.topics, data: log.data }] } : null,
  } as unknown as JsonRpcProvider;
}

const noProofs = async (): Promise<InclusionProof> => {
  throw new Error('no proof expected');
};

function run(overrides: Partial<CheckReceiptInput> = {}) {
  return checkReceipt({ jws: receipt.jws, jwks, provider: null, fetchInclusion: noProofs, anchoredHead: null, ...overrides });
}
const byName = (report: Awaited<ReturnType<typeof run>>) => Object.fromEntries(report.checks.map((c) => [c.check, c]));

describe('checkReceipt', () => {
  it('reports every check in order, and fails the chain checks when no RPC is given', async () => {
    const report = await run({ expected: { consumer: `0x${'11'.repeat(20)}` } });
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
    const checks = byName(await run({ jws: offChain.jws, expected: { consumer: `0x${'11'.repeat(20)}` } }));
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
    const inclusion = byName(await run({ anchoredHead: h, provider: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion })).inclusion;
    expect(inclusion).toMatchObject({ ok: true, detail: expect.stringContaining(`log entry 3 of 5; root anchored by ${ANCHOR_TX}`) });
    expect(asked).toEqual([[receipt.payload.receipt_id, 5]]);
  });

  it('fails inclusion when the chain anchors another root, the RPC is another chain, or the proof does not hold', async () => {
    const h = await head(5);
    const good = async (id: string) => proofUnder(h, id);
    const otherRoot = merkle.toHex(merkle.rootHash(leaves.slice(0, 4)));
    const cases: [Partial<CheckReceiptInput>, string][] = [
      [{ provider: fakeChain({ size: 5, root: otherRoot }), fetchInclusion: good }, 'the chain anchors size 5 root'],
      [{ provider: fakeChain({ size: 4, root: h.root_hash }), fetchInclusion: good }, 'the chain anchors size 4'],
      [{ provider: fakeChain({ size: 5, root: h.root_hash }, 1), fetchInclusion: good }, 'the RPC serves chain 1'],
      [{ provider: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion: async () => Promise.reject(new Error('404 not found')) }, '404 not found'],
      [{ provider: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion: async (id) => proofUnder(await head(4), id) }, 'not the anchored head'],
      [
        { provider: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion: async (id) => ({ ...proofUnder(h, id), hashes: proofUnder(h, id).hashes.reverse() }) },
        'audit path',
      ],
      [
        { provider: fakeChain({ size: 5, root: h.root_hash }), fetchInclusion: async () => ({ ...proofUnder(h, randomUUID()), leaf_hash: merkle.toHex(leaves[0]) }) },
        'another leaf',
      ],
    ];
    for (const [overrides, detail] of cases) {
      const inclusion = byName(await run({ anchoredHead: h, ...overrides })).inclusion;
      expect(inclusion, detail).toMatchObject({ ok: false, detail: expect.stringContaining(detail) });
    }
  });
});
