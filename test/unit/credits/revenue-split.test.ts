import { describe, expect, it } from 'vitest';
import {
  capturedTotal,
  LINEAGE_CAP_BPS,
  type LineageAncestor,
  MAX_LINEAGE_DEPTH,
  MAX_ROYALTY_BPS,
  type RevenueSplit,
  splitJobRevenue,
} from '../../../src/credits/revenue-split.js';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

const ancestor = (modelId: string, ownerAccountId: string | null, royaltyBps: number): LineageAncestor => ({
  modelId,
  ownerAccountId,
  royaltyBps,
});
const byRole = (split: RevenueSplit, role: string) => split.payees.filter((p) => p.role === role);

describe('splitJobRevenue: hand-computed examples', () => {
  it('three generations: C (owner c) from B (500 bps, owner b) from A (1000 bps, owner a)', () => {
    // O = floor(12345 × 7500 / 10000) = floor(9258.75) = 9258; fee = 12345 − 9258 = 3087.
    // B: floor(9258 × 500 / 10000) = 462; A: floor(9258 × 1000 / 10000) = 925; cap 4629 not reached.
    // c: 9258 − 462 − 925 = 7871.   3087 + 462 + 925 + 7871 = 12345.
    const split = splitJobRevenue({
      cost: 12_345n,
      feeBps: 2_500,
      ownerAccountId: 'c',
      ancestors: [ancestor('B', 'b', 500), ancestor('A', 'a', 1_000)],
    });
    expect(split).toEqual({
      marketplace: 3_087n,
      payees: [
        { accountId: 'b', amount: 462n, role: 'ancestor', modelId: 'B' },
        { accountId: 'a', amount: 925n, role: 'ancestor', modelId: 'A' },
        { accountId: 'c', amount: 7_871n, role: 'owner' },
      ],
    });
  });

  it('a model without ancestors splits as before: 25 % fee rounded in the marketplace’s favour', () => {
    // O = floor(1037 × 0.75) = floor(777.75) = 777; fee 260.
    expect(splitJobRevenue({ cost: 1_037n, feeBps: 2_500n, ownerAccountId: 'o', ancestors: [] })).toEqual({
      marketplace: 260n,
      payees: [{ accountId: 'o', amount: 777n, role: 'owner' }],
    });
  });

  it('a model without an owner: everything to the marketplace, ancestors included', () => {
    const split = splitJobRevenue({ cost: 5_000n, feeBps: 2_500, ownerAccountId: null, ancestors: [ancestor('A', 'a', 2_000)] });
    expect(split).toEqual({ marketplace: 5_000n, payees: [] });
  });

  it('the cap binds: 8 ancestors at 20 % get 20 %, 20 %, 10 % of O, then nothing; the owner keeps half', () => {
    // O = 750000, cap = 375000: 150000 + 150000 + 75000 = 375000.
    const ancestors = Array.from({ length: 8 }, (_, i) => ancestor(`m${i + 1}`, `a${i + 1}`, 2_000));
    const split = splitJobRevenue({ cost: 1_000_000n, feeBps: 2_500, ownerAccountId: 'o', ancestors });
    expect(split.marketplace).toBe(250_000n);
    expect(byRole(split, 'ancestor')).toEqual([
      { accountId: 'a1', amount: 150_000n, role: 'ancestor', modelId: 'm1' },
      { accountId: 'a2', amount: 150_000n, role: 'ancestor', modelId: 'm2' },
      { accountId: 'a3', amount: 75_000n, role: 'ancestor', modelId: 'm3' },
    ]);
    expect(byRole(split, 'owner')).toEqual([{ accountId: 'o', amount: 375_000n, role: 'owner' }]);
  });

  it('the cap rounds down: O = 7 gives the ancestors at most floor(3.5) = 3', () => {
    // cost 10, fee 25 %: O = floor(7.5) = 7, fee 3; royalties 2000 bps: floor(1.4) = 1 each, up to 3.
    const ancestors = Array.from({ length: 5 }, (_, i) => ancestor(`m${i}`, `a${i}`, 2_000));
    const split = splitJobRevenue({ cost: 10n, feeBps: 2_500, ownerAccountId: 'o', ancestors });
    expect(split.marketplace).toBe(3n);
    expect(byRole(split, 'ancestor').map((p) => p.amount)).toEqual([1n, 1n, 1n]);
    expect(byRole(split, 'owner')[0].amount).toBe(4n);
  });

  it('pays at most 8 generations', () => {
    // O = 750000; 100 bps = 7500 each for 8 ancestors (60000); the 9th and 10th get nothing.
    const ancestors = Array.from({ length: 10 }, (_, i) => ancestor(`m${i}`, `a${i}`, 100));
    const split = splitJobRevenue({ cost: 1_000_000n, feeBps: 2_500, ownerAccountId: 'o', ancestors });
    expect(byRole(split, 'ancestor')).toHaveLength(MAX_LINEAGE_DEPTH);
    expect(byRole(split, 'ancestor').every((p) => p.amount === 7_500n)).toBe(true);
    expect(byRole(split, 'owner')[0].amount).toBe(690_000n);
  });

  it("an ancestor without an owner: its share goes to the marketplace (and still counts under the cap)", () => {
    // O = 7500; the ownerless parent's 1000 bps = 750 → marketplace 2500 + 750; grandparent 2000 bps = 1500.
    const split = splitJobRevenue({
      cost: 10_000n,
      feeBps: 2_500,
      ownerAccountId: 'o',
      ancestors: [ancestor('P', null, 1_000), ancestor('G', 'g', 2_000)],
    });
    expect(split).toEqual({
      marketplace: 3_250n,
      payees: [
        { accountId: 'g', amount: 1_500n, role: 'ancestor', modelId: 'G' },
        { accountId: 'o', amount: 5_250n, role: 'owner' },
      ],
    });
  });

  it('shares to the same account are listed apart and add up', () => {
    const split = splitJobRevenue({ cost: 10_000n, feeBps: 2_500, ownerAccountId: 'x', ancestors: [ancestor('P', 'x', 2_000)] });
    expect(split.payees).toEqual([
      { accountId: 'x', amount: 1_500n, role: 'ancestor', modelId: 'P' },
      { accountId: 'x', amount: 6_000n, role: 'owner' },
    ]);
  });

  it('fixed payments are paid in full on top of the split', () => {
    const split = splitJobRevenue({
      cost: 12_345n,
      feeBps: 2_500,
      ownerAccountId: 'c',
      ancestors: [ancestor('B', 'b', 500)],
      fixed: [
        { accountId: 'd1', amount: 1_000n },
        { accountId: 'd2', amount: 0n },
        { accountId: 'd3', amount: 7n },
      ],
    });
    expect(split.marketplace).toBe(3_087n);
    expect(byRole(split, 'fixed')).toEqual([
      { accountId: 'd1', amount: 1_000n, role: 'fixed' },
      { accountId: 'd3', amount: 7n, role: 'fixed' },
    ]);
    expect(capturedTotal(split)).toBe(12_345n + 1_007n);
    // Fixed payments are paid even when the model has no owner.
    expect(splitJobRevenue({ cost: 0n, feeBps: 2_500, ownerAccountId: null, ancestors: [], fixed: [{ accountId: 'd', amount: 5n }] })).toEqual({
      marketplace: 0n,
      payees: [{ accountId: 'd', amount: 5n, role: 'fixed' }],
    });
  });

  it('fee 0 % and 100 %, a cost of 0 and of 1', () => {
    expect(splitJobRevenue({ cost: 100n, feeBps: 0, ownerAccountId: 'o', ancestors: [ancestor('A', 'a', 2_000)] })).toEqual({
      marketplace: 0n,
      payees: [
        { accountId: 'a', amount: 20n, role: 'ancestor', modelId: 'A' },
        { accountId: 'o', amount: 80n, role: 'owner' },
      ],
    });
    expect(splitJobRevenue({ cost: 100n, feeBps: 10_000, ownerAccountId: 'o', ancestors: [ancestor('A', 'a', 2_000)] })).toEqual({
      marketplace: 100n,
      payees: [],
    });
    expect(splitJobRevenue({ cost: 0n, feeBps: 2_500, ownerAccountId: 'o', ancestors: [ancestor('A', 'a', 2_000)] })).toEqual({
      marketplace: 0n,
      payees: [],
    });
    expect(splitJobRevenue({ cost: 1n, feeBps: 2_500, ownerAccountId: 'o', ancestors: [] })).toEqual({ marketplace: 1n, payees: [] });
  });

  it('refuses what the rule does not define', () => {
    const base = { cost: 100n, feeBps: 2_500, ownerAccountId: 'o', ancestors: [] as LineageAncestor[] };
    expect(() => splitJobRevenue({ ...base, cost: -1n })).toThrow(RangeError);
    expect(() => splitJobRevenue({ ...base, feeBps: 10_001 })).toThrow(RangeError);
    expect(() => splitJobRevenue({ ...base, feeBps: -1n })).toThrow(RangeError);
    expect(() => splitJobRevenue({ ...base, feeBps: 2_500.5 })).toThrow(RangeError);
    expect(() => splitJobRevenue({ ...base, ancestors: [ancestor('A', 'a', MAX_ROYALTY_BPS + 1)] })).toThrow(RangeError);
    expect(() => splitJobRevenue({ ...base, ancestors: [ancestor('A', 'a', -1)] })).toThrow(RangeError);
    expect(() => splitJobRevenue({ ...base, fixed: [{ accountId: 'd', amount: -1n }] })).toThrow(RangeError);
  });
});

/** mulberry32: a small seeded PRNG, so a failure is reproducible from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (max: number) => Math.floor(next() * (max + 1));
  return { next, int };
}

describe('splitJobRevenue: properties over random inputs (seeded)', () => {
  it('parts sum to the cost, none is negative or zero, the cap and nearest-first order hold', () => {
    const rnd = prng(20_240_611);
    for (let round = 0; round < 5_000; round++) {
      const magnitude = rnd.int(4);
      const cost =
        magnitude === 0
          ? BigInt(rnd.int(20))
          : magnitude === 1
            ? BigInt(rnd.int(100_000))
            : magnitude === 2
              ? BigInt(rnd.int(2 ** 31))
              : (BigInt(rnd.int(2 ** 31)) << 40n) + BigInt(rnd.int(2 ** 31)); // beyond 2^53
      const feeBps = rnd.next() < 0.2 ? [0, 10_000, 2_500][rnd.int(2)] : rnd.int(10_000);
      const ownerAccountId = rnd.next() < 0.1 ? null : `o${rnd.int(3)}`;
      const depth = rnd.int(12);
      const ancestors = Array.from({ length: depth }, (_, i) =>
        ancestor(`m${i}`, rnd.next() < 0.15 ? null : `a${rnd.int(5)}`, rnd.next() < 0.2 ? MAX_ROYALTY_BPS : rnd.int(MAX_ROYALTY_BPS)),
      );
      const fixed = Array.from({ length: rnd.int(2) }, (_, i) => ({ accountId: `d${i}`, amount: BigInt(rnd.int(1_000)) }));
      const fixedTotal = fixed.reduce((s, f) => s + f.amount, 0n);
      const context = JSON.stringify({ round, cost: cost.toString(), feeBps, ownerAccountId, depth });
      const split = splitJobRevenue({ cost, feeBps, ownerAccountId, ancestors, fixed });

      expect(capturedTotal(split), context).toBe(cost + fixedTotal);
      expect(split.marketplace >= 0n, context).toBe(true);
      expect(split.payees.every((p) => p.amount > 0n), context).toBe(true);
      const fixedPaid = byRole(split, 'fixed').reduce((s, p) => s + p.amount, 0n);
      expect(fixedPaid, context).toBe(fixedTotal);

      const owners = ownerAccountId === null ? 0n : (cost * (10_000n - BigInt(feeBps))) / 10_000n;
      const fee = cost - owners;
      const ownerPaid = byRole(split, 'owner').reduce((s, p) => s + p.amount, 0n);
      // What the ancestors got, the ownerless ones' shares (sent to the marketplace) included.
      const toAncestors = owners - ownerPaid;
      expect(split.marketplace + ownerPaid + byRole(split, 'ancestor').reduce((s, p) => s + p.amount, 0n), context).toBe(cost);
      expect(split.marketplace >= fee, context).toBe(true);
      expect(toAncestors >= 0n && toAncestors <= (owners * LINEAGE_CAP_BPS) / 10_000n, context).toBe(true);
      if (ownerAccountId === null) {
        expect(split.payees.filter((p) => p.role !== 'fixed'), context).toEqual([]);
        continue;
      }
      // Walk the rule again from the outside: each share is its due or what is left under the cap.
      const cap = (owners * LINEAGE_CAP_BPS) / 10_000n;
      let left = cap;
      let expectedToMarket = fee;
      const expected: { accountId: string; amount: bigint; modelId: string }[] = [];
      for (const a of ancestors.slice(0, MAX_LINEAGE_DEPTH)) {
        const due = (owners * BigInt(a.royaltyBps)) / 10_000n;
        const share = due < left ? due : left;
        left -= share;
        if (share === 0n) continue;
        if (a.ownerAccountId === null) expectedToMarket += share;
        else expected.push({ accountId: a.ownerAccountId, amount: share, modelId: a.modelId });
      }
      expect(byRole(split, 'ancestor').map(({ accountId, amount, modelId }) => ({ accountId, amount, modelId })), context).toEqual(expected);
      expect(split.marketplace, context).toBe(expectedToMarket);
      expect(byRole(split, 'ancestor').length <= MAX_LINEAGE_DEPTH, context).toBe(true);
    }
  });

  it('never pays an ancestor more than its royalty, and a short share is followed only by zeros', () => {
    const rnd = prng(7);
    for (let round = 0; round < 2_000; round++) {
      const cost = BigInt(rnd.int(10_000_000));
      const ancestors = Array.from({ length: 1 + rnd.int(MAX_LINEAGE_DEPTH - 1) }, (_, i) => ancestor(`m${i}`, `a${i}`, rnd.int(MAX_ROYALTY_BPS)));
      const split = splitJobRevenue({ cost, feeBps: 2_500, ownerAccountId: 'o', ancestors });
      const owners = (cost * 7_500n) / 10_000n;
      const paid = new Map(byRole(split, 'ancestor').map((p) => [p.modelId, p.amount]));
      let shortSeen = false;
      for (const a of ancestors) {
        const due = (owners * BigInt(a.royaltyBps)) / 10_000n;
        const got = paid.get(a.modelId) ?? 0n;
        expect(got <= due).toBe(true);
        if (shortSeen) expect(got).toBe(0n);
        if (got < due) shortSeen = true;
      }
    }
  });
});

describe('MARKETPLACE_FEE_BPS', () => {
  it('defaults to 2500 and reads 0..10000', () => {
    expect(loadConfig({}).marketplaceFeeBps).toBe(2_500);
    expect(loadConfig({ MARKETPLACE_FEE_BPS: '0' }).marketplaceFeeBps).toBe(0);
    expect(loadConfig({ MARKETPLACE_FEE_BPS: '1000' }).marketplaceFeeBps).toBe(1_000);
    expect(loadConfig({ MARKETPLACE_FEE_BPS: '10000' }).marketplaceFeeBps).toBe(10_000);
  });

  it.each(['10001', '-1', '25%', '2500.5'])('stops on %s naming the variable', (value) => {
    expect(() => loadConfig({ MARKETPLACE_FEE_BPS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ MARKETPLACE_FEE_BPS: value })).toThrow(/^MARKETPLACE_FEE_BPS: /);
  });
});
