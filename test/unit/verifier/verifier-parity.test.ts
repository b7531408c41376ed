// The verifier re-implements, browser-safe, a few things the gateway computes with Node: it must
// agree with them exactly (keys, event layouts, DIDs, leaf hashes, inclusion proofs), or a genuine
// receipt would fail and a forged one might pass.
import { describe, expect, it } from 'vitest';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { generateDid as oceanDid } from '../../../src/ocean/ddo-builder.js';
import { LOG_HEAD_KEY as OCEAN_LOG_HEAD_KEY } from '../../../src/ocean/log-anchor.js';
import { WEIGHTS_SHA256_KEY as OCEAN_WEIGHTS_KEY } from '../../../src/ocean/model-publisher.js';
import * as merkle from '../../../src/receipts/merkle.js';
import { receiptLeafHash as nodeLeafHash } from '../../../src/receipts/receipt-signer.js';
import { ERC20_ABI, ERC721_ABI, generateDid, LOG_HEAD_KEY, WEIGHTS_SHA256_KEY } from '../../../src/verifier/chain-abi.js';
import { parseMarketplaceDocument, receiptLeafHash } from '../../../src/verifier/index.js';
import { verifyInclusion } from '../../../src/verifier/merkle-proof.js';

describe('the verifier agrees with the gateway', () => {
  it('on the ERC725 keys, the event and function layouts it reads, and DIDs', async () => {
    expect(LOG_HEAD_KEY).toBe(OCEAN_LOG_HEAD_KEY);
    expect(WEIGHTS_SHA256_KEY).toBe(OCEAN_WEIGHTS_KEY);
    for (const [ours, theirs] of [
      [ERC20_ABI, contractInterface('ERC20Template')],
      [ERC721_ABI, contractInterface('ERC721Template')],
    ] as const) {
      ours.forEachEvent((e) => expect(e.topicHash, e.name).toBe(theirs.getEvent(e.name)!.topicHash));
      ours.forEachFunction((f) => expect(f.selector, f.name).toBe(theirs.getFunction(f.name)!.selector));
    }
    const nft = '0x42a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3';
    expect(await generateDid(nft, 8996)).toBe(oceanDid(nft, 8996));
  });

  it('on receipt leaf hashes', async () => {
    const jws = 'eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln';
    expect(await receiptLeafHash(jws)).toBe(nodeLeafHash(jws));
  });

  it('on inclusion proofs for every leaf of trees of 1 to 17 leaves, and refuses a changed path', async () => {
    const leaves = Array.from({ length: 17 }, (_, i) => merkle.leafHash(`leaf-${i}`));
    for (let size = 1; size <= leaves.length; size++) {
      const tree = leaves.slice(0, size);
      const root = merkle.rootHash(tree);
      for (let index = 0; index < size; index++) {
        const proof = merkle.inclusionProof(index, tree);
        expect(await verifyInclusion(tree[index], index, size, proof, root), `${index} of ${size}`).toBe(true);
        if (size > 1) {
          expect(await verifyInclusion(tree[index], (index + 1) % size, size, proof, root), `moved ${index} of ${size}`).toBe(false);
          const bent = proof.map((h, i) => (i === 0 ? merkle.leafHash('other') : h));
          expect(await verifyInclusion(tree[index], index, size, bent, root), `bent ${index} of ${size}`).toBe(false);
        }
      }
    }
  });
});

describe('parseMarketplaceDocument', () => {
  const doc = {
    gateway_url: 'https://gw.example',
    jwks_url: 'https://gw.example/.well-known/jwks.json',
    chain_id: 8996,
    log_nft_address: `0x${'42'.repeat(20)}`,
    anchoring_address: `0x${'a0'.repeat(20)}`,
    consumer_address: `0x${'c0'.repeat(20)}`,
    provider_address: null,
  };

  it('reads a document, checksumming its addresses', () => {
    const parsed = parseMarketplaceDocument(doc);
    expect(parsed.log_nft_address).toBe('0x4242424242424242424242424242424242424242');
    expect(parsed.anchoring_address?.toLowerCase()).toBe(doc.anchoring_address);
    expect(parsed.provider_address).toBeNull();
  });

  it('names the first field that is wrong', () => {
    expect(() => parseMarketplaceDocument({ ...doc, anchoring_address: '0x1234' })).toThrow(/"anchoring_address" must be an address/);
    expect(() => parseMarketplaceDocument({ ...doc, log_nft_address: undefined })).toThrow(/"log_nft_address"/);
    expect(() => parseMarketplaceDocument({ ...doc, chain_id: '8996' })).toThrow(/"chain_id"/);
    expect(() => parseMarketplaceDocument({ ...doc, jwks_url: 'not a url' })).toThrow(/"jwks_url" must be a URL/);
    expect(() => parseMarketplaceDocument([doc])).toThrow(/not a JSON object/);
  });
});
