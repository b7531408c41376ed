// RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification; pure, no I/O.
import { createHash } from 'node:crypto';

export type Hash = Uint8Array;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

function sha256(...parts: Uint8Array[]): Hash {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The hash of one log entry: SHA-256(0x00 || data). The prefix keeps leaves and nodes apart. */
export function leafHash(data: Uint8Array | string): Hash {
  return sha256(LEAF_PREFIX, typeof data === 'string' ? new TextEncoder().encode(data) : data);
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return sha256(NODE_PREFIX, left, right);
}

export function equalHashes(a: Hash, b: Hash): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export const toHex = (h: Hash) => Buffer.from(h).toString('hex');

export function fromHex(hex: string): Hash {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError(`not a hex SHA-256: ${hex.slice(0, 80)}`);
  return Buffer.from(hex, 'hex');
}

/** The largest power of two strictly smaller than n (n >= 2): where RFC 6962 splits a tree. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes; the empty tree's root is SHA-256 of the empty string. */
export function rootHash(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return nodeHash(rootHash(leaves.slice(0, k)), rootHash(leaves.slice(k)));
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `index`, nearest sibling first. */
export function inclusionProof(index: number, leaves: readonly Hash[]): Hash[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`leaf index ${index} is outside a tree of size ${leaves.length}`);
  }
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return index < k
    ? [...inclusionProof(index, leaves.slice(0, k)), rootHash(leaves.slice(k))]
    : [...inclusionProof(index - k, leaves.slice(k)), rootHash(leaves.slice(0, k))];
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2, for 0 < m <= n; empty when m == n. */
export function consistencyProof(m: number, leaves: readonly Hash[]): Hash[] {
  if (!Number.isSafeInteger(m) || m < 1 || m > leaves.length) {
    throw new RangeError(`no consistency proof from size ${m} to size ${leaves.length}`);
  }
  return subproof(m, leaves, true);
}

function subproof(m: number, leaves: readonly Hash[], complete: boolean): Hash[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [rootHash(leaves)];
  const k = split(n);
  return m <= k
    ? [...subproof(m, leaves.slice(0, k), complete), rootHash(leaves.slice(k))]
    : [...subproof(m - k, leaves.slice(k), false), rootHash(leaves.slice(0, k))];
}

// Sizes may exceed 2^31, so halving is arithmetic rather than a bit shift.
const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: does `proof` place `leaf` at `index` in the tree of `treeSize` with `root`? */
export function verifyInclusion(leaf: Hash, index: number, treeSize: number, proof: readonly Hash[], root: Hash): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHashes(r, root);
}

/**
 * RFC 9162 §2.1.4.2: is the tree of size `m` with `oldRoot` a prefix of the tree of size `n` with
 * `newRoot`? Equal sizes need an empty proof and equal roots; m = 0 is refused (nothing to prove).
 */
export function verifyConsistency(m: number, n: number, oldRoot: Hash, newRoot: Hash, proof: readonly Hash[]): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 1 || m > n) return false;
  if (m === n) return proof.length === 0 && equalHashes(oldRoot, newRoot);
  if (proof.length === 0) return false;
  // A first tree that is a complete subtree is a node of the second; its root starts the path.
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHashes(fr, oldRoot) && equalHashes(sr, newRoot);
}

function isPowerOfTwo(x: number): boolean {
  while (x > 1 && !isOdd(x)) x = half(x);
  return x === 1;
}
