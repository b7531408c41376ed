// The money side of settling a job: captures its hold and splits the revenue (marketplace fee, the
// model's owner, lineage royalties, fixed payments), inside the caller's transaction. Shared by the
// marketplace's workers (job-runner.ts) and the gateway's Ocean compute node backend.
import type { Ledger } from '../credits/credit-ledger.js';
import { type FixedPayment, splitJobRevenue } from '../credits/revenue-split.js';
import type { Tx } from '../db/database.js';
import { modelAncestors } from '../models/model-lineage.js';
import { MARKETPLACE_FEE_BPS } from './job-pricing.js';

export interface HoldCapture {
  holdId: string;
  modelId: string;
  /** The compute cost, split between the marketplace, the owner and the lineage. */
  cost: bigint;
  /** What the hold gives up in all: cost + Σ fixed. */
  captured: bigint;
  /** The model owner's account (paid its share of a non-zero cost); null: the marketplace's own model. */
  owner: string | null;
  fixed?: FixedPayment[];
}

export async function captureJobHold(tx: Tx, deps: { ledger: Ledger; feeBps?: bigint | number }, c: HoldCapture): Promise<void> {
  // Lineage royalties (README "Revenue and lineage royalties"), the lineage read in this transaction.
  const split = splitJobRevenue({
    cost: c.cost,
    feeBps: deps.feeBps ?? MARKETPLACE_FEE_BPS,
    ownerAccountId: c.owner,
    ancestors: c.owner && c.cost > 0n ? await modelAncestors(tx, c.modelId) : [],
    fixed: c.fixed,
  });
  // Book ids come from the ledger's cache once committed; a book created here is created in
  // account order, so concurrent settles creating the same books wait in one order, never a cycle.
  const payees = [{ bookId: await deps.ledger.systemBook(tx, 'marketplace'), amount: split.marketplace }];
  const earned = new Map<string, bigint>();
  for (const p of split.payees) earned.set(p.accountId, (earned.get(p.accountId) ?? 0n) + p.amount);
  for (const accountId of [...earned.keys()].sort()) {
    payees.push({ bookId: (await deps.ledger.accountBooks(tx, accountId)).earnings, amount: earned.get(accountId) ?? 0n });
  }
  await deps.ledger.settle({ holdId: c.holdId, capture: c.captured, payees }, tx);
}
