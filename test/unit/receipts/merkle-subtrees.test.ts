import { describe, expect, it } from 'vitest';
import { consistencyProof, type Hash, inclusionProof, leafHash, rootHash, toHex } from '../../../src/receipts/merkle.js';
import {
  auditPath,
  consistencyPath,
  frontier,
  type SubtreeSource,
  subtreesCompletedBy,
  subtreesRead,
  treeRoot,
} from '../../../src/receipts/merkle-subtrees.js';

const leaves = (n: number): Hash[] => Array.from({ length: n }, (_, i) => leafHash(`entry ${i}`));

/** Builds the node store the way the log does: one leaf at a time, from the frontier only. */
function store(all: readonly Hash[]) {
  const nodes = new Map<string, Hash>();
  const source: SubtreeSource = (level, index) => {
    const h = nodes.get(`${level}:${index}`);
    if (!h) throw new Error(`node ${level}/${index} is not stored`);
    return h;
  };
  all.forEach((leaf, i) => {
    const known = new Set(frontier(i).map((f) => `${f.level}:${f.index}`));
    const frontierOnly: SubtreeSource = (level, index) => {
      if (!known.has(`${level}:${index}`)) throw new Error(`append of ${i} read ${level}/${index}, not in its frontier`);
      return source(level, index);
    };
    for (const n of subtreesCompletedBy(i, [leaf], frontierOnly)) nodes.set(`${n.level}:${n.index}`, n.hash);
  });
  return { nodes, source };
}

const hex = (hs: Hash[]) => hs.map(toHex);

describe('RFC 6962 from stored perfect subtrees', () => {
  const all = leaves(70);
  const { nodes, source } = store(all);

  it('stores exactly the complete subtrees: 2n - popcount(n) nodes', () => {
    const popcount = (x: number) => x.toString(2).replaceAll('0', '').length;
    expect(nodes.size).toBe(2 * 70 - popcount(70));
  });

  it('gives the reference root, audit paths and consistency proofs for every size up to 70', () => {
    for (let n = 0; n <= 70; n++) {
      const prefix = all.slice(0, n);
      expect(toHex(treeRoot(n, source)), `root ${n}`).toBe(toHex(rootHash(prefix)));
      for (let i = 0; i < n; i++) expect(hex(auditPath(i, n, source)), `path ${i}/${n}`).toEqual(hex(inclusionProof(i, prefix)));
      for (let m = 1; m <= n; m++) expect(hex(consistencyPath(m, n, source)), `proof ${m}->${n}`).toEqual(hex(consistencyProof(m, prefix)));
    }
  });

  it('extends a frontier by many leaves at once exactly as one at a time', () => {
    const first = store(all.slice(0, 37));
    const more = subtreesCompletedBy(37, all.slice(37), first.source);
    for (const n of more) first.nodes.set(`${n.level}:${n.index}`, n.hash);
    expect(new Map([...first.nodes].sort())).toEqual(new Map([...nodes].sort()));
  });

  it('reads O(log n) subtrees per answer, even for a tree of 2^40 + 12345 leaves', () => {
    const n = 2 ** 40 + 12_345;
    const bound = 2 * Math.ceil(Math.log2(n)) + 2;
    expect(subtreesRead((node) => treeRoot(n, node)).length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)) + 1);
    for (const i of [0, 1, 2 ** 39, n - 1, n - 12_346]) {
      expect(subtreesRead((node) => auditPath(i, n, node)).length).toBeLessThanOrEqual(bound);
    }
    for (const m of [1, 3, 2 ** 40, 2 ** 40 + 1, n - 1]) {
      expect(subtreesRead((node) => consistencyPath(m, n, node)).length).toBeLessThanOrEqual(bound);
    }
  });

  it('names every subtree an answer reads, so one fetch suffices', () => {
    const n = 53;
    const ids = subtreesRead((node) => auditPath(17, n, node));
    const fetched = new Set(ids.map((id) => `${id.level}:${id.index}`));
    const only: SubtreeSource = (level, index) => {
      if (!fetched.has(`${level}:${index}`)) throw new Error(`unfetched ${level}/${index}`);
      return source(level, index);
    };
    expect(hex(auditPath(17, n, only))).toEqual(hex(inclusionProof(17, all.slice(0, n))));
  });

  it('refuses indexes and sizes outside the tree', () => {
    expect(() => auditPath(5, 5, source)).toThrow(RangeError);
    expect(() => consistencyPath(0, 5, source)).toThrow(RangeError);
    expect(() => consistencyPath(6, 5, source)).toThrow(RangeError);
    expect(() => treeRoot(-1, source)).toThrow(RangeError);
  });
});
