import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  type Hash,
  inclusionProof,
  leafHash,
  nodeHash,
  rootHash,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/receipts/merkle.js';

const leaves = (n: number): Hash[] => Array.from({ length: n }, (_, i) => leafHash(`entry ${i}`));

/** Brute force: combine level by level, carrying an odd last node up unchanged (same tree as RFC 6962). */
function bruteRoot(level: Hash[]): Hash {
  if (level.length === 0) return createHash('sha256').digest();
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

function flipped(h: Hash): Hash {
  const copy = Uint8Array.from(h);
  copy[0] ^= 0x01;
  return copy;
}

describe('RFC 6962 Merkle tree hashing', () => {
  it('matches the certificate-transparency reference vectors', () => {
    const data = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const hashed = data.map((d) => leafHash(Buffer.from(d, 'hex')));
    roots.forEach((root, i) => {
      expect(toHex(rootHash(hashed.slice(0, i + 1)))).toBe(root);
    });
    expect(toHex(rootHash([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('agrees with a brute-force tree for every size up to 100', () => {
    const all = leaves(100);
    for (let n = 0; n <= 100; n++) expect(toHex(rootHash(all.slice(0, n)))).toBe(toHex(bruteRoot(all.slice(0, n))));
  });

  it('separates leaves from nodes (0x00 / 0x01 prefixes)', () => {
    const [a, b] = leaves(2);
    const concatenated = Buffer.concat([a, b]);
    expect(toHex(leafHash(concatenated))).not.toBe(toHex(nodeHash(a, b)));
    expect(toHex(leafHash(''))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });
});

describe('inclusion proofs', () => {
  it('verify for every leaf of every tree up to 40, and fail when a sibling, the index, the leaf or the root changes', () => {
    const all = leaves(41);
    for (let n = 1; n <= 40; n++) {
      const tree = all.slice(0, n);
      const root = rootHash(tree);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, tree);
        expect(verifyInclusion(tree[i], i, n, proof, root), `n=${n} i=${i}`).toBe(true);
        proof.forEach((_, j) => {
          const bad = proof.map((h, k) => (k === j ? flipped(h) : h));
          expect(verifyInclusion(tree[i], i, n, bad, root), `sibling n=${n} i=${i} j=${j}`).toBe(false);
        });
        for (let other = 0; other < n; other++) {
          if (other !== i) expect(verifyInclusion(tree[i], other, n, proof, root), `index n=${n} i=${i}->${other}`).toBe(false);
        }
        expect(verifyInclusion(tree[i], i, n, proof, flipped(root))).toBe(false);
        expect(verifyInclusion(flipped(tree[i]), i, n, proof, root)).toBe(false);
        // No size assertion: a path shape can fit two sizes; the signed head binds root to size.
        if (n > 1) expect(verifyInclusion(tree[i], i, n, proof.slice(0, -1), root)).toBe(false);
        expect(verifyInclusion(tree[i], i, n, [...proof, root], root)).toBe(false);
      }
    }
  });

  it('refuses indexes outside the tree', () => {
    const tree = leaves(4);
    expect(() => inclusionProof(4, tree)).toThrow(RangeError);
    expect(verifyInclusion(tree[0], 4, 4, inclusionProof(0, tree), rootHash(tree))).toBe(false);
    expect(verifyInclusion(tree[0], -1, 4, inclusionProof(0, tree), rootHash(tree))).toBe(false);
  });
});

describe('consistency proofs', () => {
  it('verify for every 0 < m < n <= 40, and fail when any hash, either root or the old size changes', () => {
    const all = leaves(40);
    for (let n = 2; n <= 40; n++) {
      const tree = all.slice(0, n);
      const newRoot = rootHash(tree);
      for (let m = 1; m < n; m++) {
        const oldRoot = rootHash(tree.slice(0, m));
        const proof = consistencyProof(m, tree);
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof), `m=${m} n=${n}`).toBe(true);
        proof.forEach((_, j) => {
          const bad = proof.map((h, k) => (k === j ? flipped(h) : h));
          expect(verifyConsistency(m, n, oldRoot, newRoot, bad), `hash m=${m} n=${n} j=${j}`).toBe(false);
        });
        expect(verifyConsistency(m, n, flipped(oldRoot), newRoot, proof)).toBe(false);
        expect(verifyConsistency(m, n, oldRoot, flipped(newRoot), proof)).toBe(false);
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(m, n, oldRoot, newRoot, [...proof, newRoot])).toBe(false);
        if (m + 1 < n) expect(verifyConsistency(m + 1, n, oldRoot, newRoot, proof), `size m=${m} n=${n}`).toBe(false);
        // A tree that is not a prefix: change one of the first m leaves.
        const forged = rootHash([flipped(tree[0]), ...tree.slice(1, m)]);
        expect(verifyConsistency(m, n, forged, newRoot, proof)).toBe(false);
      }
    }
  });

  it('treats equal sizes as consistent only with an empty proof and equal roots, and refuses m = 0 or m > n', () => {
    const tree = leaves(5);
    const root = rootHash(tree);
    expect(consistencyProof(5, tree)).toEqual([]);
    expect(verifyConsistency(5, 5, root, root, [])).toBe(true);
    expect(verifyConsistency(5, 5, root, flipped(root), [])).toBe(false);
    expect(verifyConsistency(5, 5, root, root, [root])).toBe(false);
    expect(verifyConsistency(0, 5, rootHash([]), root, [])).toBe(false);
    expect(verifyConsistency(6, 5, root, root, [])).toBe(false);
    expect(() => consistencyProof(0, tree)).toThrow(RangeError);
  });
});
