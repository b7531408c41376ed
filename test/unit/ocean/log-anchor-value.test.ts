// The tree head an anchor writes on the log NFT: UTF-8 JSON text (what ocean.js getData returns),
// read back by the verifier, which also reads the ABI-encoded heads of anchors written before.
import { AbiCoder, toUtf8String } from 'ethers';
import { describe, expect, it } from 'vitest';
import { decodeHead, encodeHead } from '../../../src/ocean/log-anchor.js';
import { decodeHead as verifierDecodeHead } from '../../../src/verifier/chain-abi.js';

const root = 'Ab'.repeat(32);

describe('anchored tree head value', () => {
  it('is UTF-8 JSON text naming the size and the lower-case root', () => {
    expect(JSON.parse(toUtf8String(encodeHead(4100, `0x${root}`)))).toEqual({ tree_size: 4100, root_hash: root.toLowerCase() });
  });
  it('decodes back, in the gateway and in the verifier alike', () => {
    expect(decodeHead(encodeHead(7, root))).toEqual({ treeSize: 7, rootHash: root.toLowerCase() });
    expect(verifierDecodeHead(encodeHead(7, root))).toEqual({ treeSize: 7, rootHash: root.toLowerCase() });
  });
  it('still reads a head written ABI-encoded before', () => {
    const old = AbiCoder.defaultAbiCoder().encode(['uint256', 'bytes32'], [12n, `0x${'cd'.repeat(32)}`]);
    expect(decodeHead(old)).toEqual({ treeSize: 12, rootHash: 'cd'.repeat(32) });
  });
  it('refuses JSON that does not name a size and a 32-byte root', () => {
    const bad = `0x${Buffer.from('{"tree_size":"7","root_hash":"xyz"}').toString('hex')}`;
    expect(() => decodeHead(bad)).toThrow(/tree_size/);
  });
});
