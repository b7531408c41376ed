// RFC 6962 / RFC 9162 inclusion-proof verification with WebCrypto hashing. The gateway builds its
// proofs with src/receipts/merkle.ts; this is the half a verifier needs, and only that half.
import { sha256 } from './sha256.js';

const NODE_PREFIX = Uint8Array.of(0x01);

const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(NODE_PREFIX, left, right);

function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

// Sizes may exceed 2^31, so halving is arithmetic rather than a bit shift.
const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: does `proof` place `leaf` at `index` in the tree of `treeSize` with `root`? */
export async function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Promise<boolean> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalHashes(r, root);
}
