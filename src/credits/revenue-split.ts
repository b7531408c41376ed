// Splits a job's revenue between the marketplace, the model's owner and its ancestors' owners
// (lineage royalties), in integer micro-credits: the parts always add up to the cost exactly.
//
// The rule (README "Revenue and lineage royalties"):
// 1. The owners' part is O = floor(cost × (10000 − feeBps) / 10000); the marketplace fee is cost − O.
//    A model without an owner: the whole cost goes to the marketplace.
// 2. Ancestors, nearest first (at most MAX_LINEAGE_DEPTH): ancestor k gets
//    floor(O × royaltyBps_k / 10000), its own model's royalty. Together they get at most
//    floor(O × LINEAGE_CAP_BPS / 10000): once that is reached, the next ancestors get only what is
//    left (nearest first). An ancestor without an owner: its share goes to the marketplace.
// 3. The model's owner gets O − Σ ancestor shares, so it absorbs every rounding remainder.
// 4. Fixed payments (dataset owners of a fine-tune) are paid in full on top: not part of the split.

/** The ancestors' shares together never exceed half of the owners' part. */
export const LINEAGE_CAP_BPS = 5_000n;
/** Generations of ancestors paid: the parent is 1. */
export const MAX_LINEAGE_DEPTH = 8;
/** Largest royalty a model's owner may set (the models_royalty_bps_range check). */
export const MAX_ROYALTY_BPS = 2_000;

const BPS = 10_000n;

export interface LineageAncestor {
  modelId: string;
  /** Null: the ancestor's share goes to the marketplace. */
  ownerAccountId: string | null;
  /** The ancestor model's own royalty, 0..MAX_ROYALTY_BPS. */
  royaltyBps: number;
}

export interface FixedPayment {
  accountId: string;
  amount: bigint;
}

export interface SplitInput {
  /** Micro-credits to split (fixed payments come on top). */
  cost: bigint;
  /** Marketplace fee in basis points, 0..10000. */
  feeBps: bigint | number;
  /** The owner of the model that ran the job; null: everything goes to the marketplace. */
  ownerAccountId: string | null;
  /** The model's ancestors, nearest first (parent, grandparent, …). */
  ancestors: readonly LineageAncestor[];
  fixed?: readonly FixedPayment[];
}

export interface RevenuePayee {
  accountId: string;
  amount: bigint;
  role: 'owner' | 'ancestor' | 'fixed';
  /** The ancestor model whose royalty this is (role `ancestor` only). */
  modelId?: string;
}

export interface RevenueSplit {
  marketplace: bigint;
  /** Who else is paid, in rule order (ancestors nearest first, then the owner, then fixed); no zero amounts. */
  payees: RevenuePayee[];
}

function basisPoints(value: bigint | number, max: bigint, field: string): bigint {
  const bps = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (bps < 0n || bps > max) throw new RangeError(`${field} must be a whole number from 0 to ${max}, got ${value}`);
  return bps;
}

/** Applies the rule above. marketplace + Σ payees = cost + Σ fixed, always; no part is negative. */
export function splitJobRevenue(input: SplitInput): RevenueSplit {
  const { cost } = input;
  if (cost < 0n) throw new RangeError(`cost must not be negative, got ${cost}`);
  const feeBps = basisPoints(input.feeBps, BPS, 'feeBps');
  const payees: RevenuePayee[] = [];
  let marketplace = cost;
  if (input.ownerAccountId !== null) {
    const owners = (cost * (BPS - feeBps)) / BPS;
    marketplace = cost - owners;
    const cap = (owners * LINEAGE_CAP_BPS) / BPS;
    let toAncestors = 0n;
    for (const ancestor of input.ancestors.slice(0, MAX_LINEAGE_DEPTH)) {
      const royalty = basisPoints(ancestor.royaltyBps, BigInt(MAX_ROYALTY_BPS), `royaltyBps of ${ancestor.modelId}`);
      const due = (owners * royalty) / BPS;
      const share = due < cap - toAncestors ? due : cap - toAncestors;
      if (share === 0n) continue;
      toAncestors += share;
      if (ancestor.ownerAccountId === null) marketplace += share;
      else payees.push({ accountId: ancestor.ownerAccountId, amount: share, role: 'ancestor', modelId: ancestor.modelId });
    }
    const owner = owners - toAncestors;
    if (owner > 0n) payees.push({ accountId: input.ownerAccountId, amount: owner, role: 'owner' });
  }
  for (const f of input.fixed ?? []) {
    if (f.amount < 0n) throw new RangeError(`a fixed payment must not be negative, got ${f.amount}`);
    if (f.amount > 0n) payees.push({ accountId: f.accountId, amount: f.amount, role: 'fixed' });
  }
  return { marketplace, payees };
}

/** What the hold captures for a split: the cost plus every fixed payment. */
export const capturedTotal = (split: RevenueSplit): bigint => split.payees.reduce((sum, p) => sum + p.amount, split.marketplace);
