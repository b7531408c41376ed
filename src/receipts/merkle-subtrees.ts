// RFC 6962 roots and proofs for any tree size, computed from stored perfect subtrees rather than
// from every leaf: each answer needs O(log n) subtree roots. Pure; the log fetches what it names.
import { createHash } from 'node:crypto';
import { type Hash, nodeHash } from './merkle.js';

/** The root of the perfect subtree over leaves [index·2^level, (index+1)·2^level); level 0 is a leaf. */
export interface SubtreeId {
  level: number;
  index: number;
}

export interface StoredSubtree extends SubtreeId {
  hash: Hash;
}

/** Looks a perfect subtree's root up; throws when it is not stored. */
export type SubtreeSource = (level: number, index: number) => Hash;

const EMPTY_ROOT: Hash = createHash('sha256').digest();
const PLACEHOLDER: Hash = new Uint8Array(32);

// Sizes may exceed 2^31, so arithmetic rather than bit operations.
const isOdd = (x: number) => x % 2 === 1;

function isPowerOfTwo(x: number): boolean {
  while (x > 1 && !isOdd(x)) x /= 2;
  return x === 1;
}

function log2(powerOfTwo: number): number {
  let level = 0;
  for (let x = powerOfTwo; x > 1; x /= 2) level++;
  return level;
}

/** The largest power of two strictly smaller than n (n >= 2): where RFC 6962 splits a tree. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH(D[a:b]). Every range the RFC 6962 recursion visits starts at a multiple of its own size
 * rounded up to a power of two, so a range of 2^L leaves is exactly the stored node (L, a / 2^L),
 * and any range decomposes into at most log2(n) + 1 stored nodes.
 */
function rangeHash(a: number, b: number, node: SubtreeSource): Hash {
  const n = b - a;
  if (isPowerOfTwo(n) && a % n === 0) return node(log2(n), a / n);
  const k = split(n);
  return nodeHash(rangeHash(a, a + k, node), rangeHash(a + k, b, node));
}

function checkSize(size: number) {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid tree size ${size}`);
}

/** MTH(D[size]): the root of the first `size` leaves. */
export function treeRoot(size: number, node: SubtreeSource): Hash {
  checkSize(size);
  return size === 0 ? EMPTY_ROOT : rangeHash(0, size, node);
}

/** PATH(index, D[size]) of RFC 6962 §2.1.1, nearest sibling first; equals merkle.inclusionProof. */
export function auditPath(index: number, size: number, node: SubtreeSource): Hash[] {
  checkSize(size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is outside a tree of size ${size}`);
  }
  const path: Hash[] = [];
  let a = 0;
  let b = size;
  // Walk down from the root, then reverse: the RFC lists the nearest sibling first.
  while (b - a > 1) {
    const k = split(b - a);
    if (index < a + k) {
      path.push(rangeHash(a + k, b, node));
      b = a + k;
    } else {
      path.push(rangeHash(a, a + k, node));
      a += k;
    }
  }
  return path.reverse();
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2 for 0 < m <= n; equals merkle.consistencyProof. */
export function consistencyPath(m: number, n: number, node: SubtreeSource): Hash[] {
  checkSize(n);
  if (!Number.isSafeInteger(m) || m < 1 || m > n) throw new RangeError(`no consistency proof from size ${m} to size ${n}`);
  const path: Hash[] = [];
  let a = 0;
  let b = n;
  let rel = m;
  let complete = true;
  while (rel !== b - a) {
    const k = split(b - a);
    if (rel <= k) {
      path.push(rangeHash(a + k, b, node));
      b = a + k;
    } else {
      path.push(rangeHash(a, a + k, node));
      a += k;
      rel -= k;
      complete = false;
    }
  }
  if (!complete) path.push(rangeHash(a, b, node));
  return path.reverse();
}

/**
 * The subtrees `compute` reads, found by running it once over placeholder hashes (the algorithms
 * above never branch on a hash value), so a caller can fetch exactly those in one query.
 */
export function subtreesRead(compute: (node: SubtreeSource) => unknown): SubtreeId[] {
  const seen = new Map<string, SubtreeId>();
  compute((level, index) => {
    seen.set(`${level}:${index}`, { level, index });
    return PLACEHOLDER;
  });
  return [...seen.values()];
}

/** The perfect subtrees that make up the first `count` leaves, largest first: the append frontier. */
export function frontier(count: number): SubtreeId[] {
  checkSize(count);
  const out: SubtreeId[] = [];
  let start = 0;
  let width = 1;
  while (width * 2 <= count) width *= 2;
  for (let level = log2(width); width >= 1; width /= 2, level--) {
    if (count - start >= width) {
      out.push({ level, index: start / width });
      start += width;
    }
  }
  return out;
}

/**
 * The subtrees completed by appending the leaves at `first`, `first + 1`, … to a tree of `first`
 * leaves whose frontier `node` returns: each leaf itself, then every parent it completes.
 */
export function subtreesCompletedBy(first: number, leaves: readonly Hash[], node: SubtreeSource): StoredSubtree[] {
  checkSize(first);
  const made = new Map<string, Hash>();
  const lookup: SubtreeSource = (level, index) => made.get(`${level}:${index}`) ?? node(level, index);
  const out: StoredSubtree[] = [];
  leaves.forEach((leaf, offset) => {
    let index = first + offset;
    let level = 0;
    let hash = leaf;
    for (;;) {
      out.push({ level, index, hash });
      made.set(`${level}:${index}`, hash);
      if (!isOdd(index)) break;
      hash = nodeHash(lookup(level, index - 1), hash);
      index = (index - 1) / 2;
      level++;
    }
  });
  return out;
}
