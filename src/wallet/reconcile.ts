// Compares the ledger's deposit and payout books with the chain: every credited deposit is a confirmed
// transfer to the treasury and every confirmed transfer is recorded; the `deposits` book equals the
// credited total; every settled payout is a successful transfer of exactly its amount, no released
// payout's transfer succeeded, `payouts` equals the settled total and `payout_held` what is in flight.
import { eq, sql } from 'drizzle-orm';
import { getAddress, zeroPadValue } from 'ethers';
import { ledgerBooks } from '../credits/ledger-schema.js';
import type { DbOrTx } from '../db/database.js';
import { TRANSFER_TOPIC } from './deposit-watcher.js';
import type { WalletChain } from './wallet-chain.js';
import { walletDeposits, walletPayouts } from './wallet-schema.js';

export interface ReconciliationReport {
  chain_id: number;
  treasury: string;
  head: number;
  confirmations: number;
  deposits: { credited: number; credited_micro_credits: string; ledger_micro_credits: string; unclaimed: number; unclaimed_micro_credits: string; pending: number };
  payouts: { settled: number; settled_micro_credits: string; ledger_micro_credits: string; in_flight: number; in_flight_micro_credits: string; held_micro_credits: string };
  /** One line per difference; empty when the ledger and the chain agree. */
  differences: string[];
}

const LOG_RANGE = 2000;

async function systemBalance(db: DbOrTx, code: string): Promise<bigint> {
  const [row] = await db.select({ balance: ledgerBooks.balance }).from(ledgerBooks).where(eq(ledgerBooks.code, code));
  return row?.balance ?? 0n;
}

export async function reconcileChain(db: DbOrTx, chain: WalletChain): Promise<ReconciliationReport> {
  const differences: string[] = [];
  const head = await chain.provider.getBlockNumber();
  const confirmedHead = head - chain.confirmations + 1;
  const deposits = await db.select().from(walletDeposits).where(eq(walletDeposits.chainId, chain.chainId));
  const byLog = new Map(deposits.map((d) => [`${d.txHash}:${d.logIndex}`, d]));

  // Ledger → chain: each credited (or unclaimed) deposit is a confirmed transfer of its amount.
  for (const d of deposits.filter((x) => x.status === 'credited' || x.status === 'unclaimed')) {
    const receipt = await chain.provider.getTransactionReceipt(d.txHash);
    const entry = receipt?.status === 1 ? receipt.logs.find((l) => l.index === d.logIndex) : undefined;
    const matches =
      entry &&
      entry.topics[0] === TRANSFER_TOPIC &&
      getAddress(entry.address) === d.token &&
      getAddress(`0x${entry.topics[2].slice(26)}`) === chain.treasuryAddress &&
      BigInt(entry.data) === d.amountWei;
    if (!matches) differences.push(`deposit ${d.id} (tx ${d.txHash}, log ${d.logIndex}) is ${d.status} but no such transfer is on chain`);
    else if ((receipt?.blockNumber ?? head) > confirmedHead) differences.push(`deposit ${d.id} (tx ${d.txHash}) is ${d.status} with fewer than ${chain.confirmations} confirmations`);
  }

  // Chain → ledger: each confirmed transfer to the treasury is recorded, and not as dropped.
  const known = deposits.map((d) => d.blockNumber);
  const start = chain.startBlock === 'head' ? (known.length ? Math.min(...known) : confirmedHead + 1) : chain.startBlock;
  const topics = [TRANSFER_TOPIC, null, zeroPadValue(chain.treasuryAddress, 32)];
  for (let from = start; from <= confirmedHead; from += LOG_RANGE) {
    const logs = await chain.provider.getLogs({ address: chain.tokens.map((t) => t.address), topics, fromBlock: from, toBlock: Math.min(confirmedHead, from + LOG_RANGE - 1) });
    for (const entry of logs) {
      const row = byLog.get(`${entry.transactionHash}:${entry.index}`);
      if (!row) differences.push(`transfer to the treasury in tx ${entry.transactionHash} (log ${entry.index}) is not recorded`);
      else if (row.status === 'dropped' || row.status === 'reversed') differences.push(`deposit ${row.id} (tx ${row.txHash}) is ${row.status} but its transfer is on chain`);
    }
  }

  const sum = (rows: { microCredits: bigint }[]) => rows.reduce((s, r) => s + r.microCredits, 0n);
  const credited = deposits.filter((d) => d.status === 'credited');
  const unclaimed = deposits.filter((d) => d.status === 'unclaimed');
  const ledgerDeposits = -(await systemBalance(db, 'system:deposits'));
  if (ledgerDeposits !== sum(credited)) {
    differences.push(`the ledger's deposits book holds ${ledgerDeposits} micro-credits; credited deposits total ${sum(credited)}`);
  }

  // Payouts: settled ones are successful transfers of exactly their amount; released ones are not.
  const payouts = await db.select().from(walletPayouts).where(eq(walletPayouts.chainId, chain.chainId));
  const byTx = new Map<string, typeof payouts>();
  for (const p of payouts) if (p.txHash && (p.status === 'settled' || p.status === 'released')) byTx.set(p.txHash, [...(byTx.get(p.txHash) ?? []), p]);
  for (const [hash, rows] of byTx) {
    const receipt = await chain.provider.getTransactionReceipt(hash);
    const transferred = (receipt?.status === 1 ? receipt.logs : [])
      .filter((l) => l.topics[0] === TRANSFER_TOPIC && getAddress(l.address) === rows[0].token && getAddress(`0x${l.topics[1].slice(26)}`) === chain.treasuryAddress && getAddress(`0x${l.topics[2].slice(26)}`) === rows[0].address)
      .reduce((s, l) => s + BigInt(l.data), 0n);
    const owed = rows.reduce((s, r) => s + r.amountWei, 0n);
    if (rows.some((r) => r.status === 'released')) {
      if (transferred > 0n) differences.push(`payout(s) ${rows.map((r) => r.id).join(', ')} were released but tx ${hash} transferred ${transferred} wei`);
    } else if (transferred !== owed) {
      differences.push(`payout(s) ${rows.map((r) => r.id).join(', ')} are settled for ${owed} wei but tx ${hash} transferred ${transferred}`);
    }
  }
  const settled = payouts.filter((p) => p.status === 'settled');
  const inFlight = payouts.filter((p) => p.status === 'queued' || p.status === 'sent');
  const ledgerPayouts = await systemBalance(db, 'system:payouts');
  if (ledgerPayouts !== sum(settled)) differences.push(`the ledger's payouts book holds ${ledgerPayouts} micro-credits; settled payouts total ${sum(settled)}`);
  const [heldRow] = await db
    .select({ total: sql<string>`COALESCE(SUM(${ledgerBooks.balance}), 0)::text` })
    .from(ledgerBooks)
    .where(eq(ledgerBooks.kind, 'payout_held'));
  const held = BigInt(heldRow?.total ?? '0');
  if (held !== sum(inFlight)) differences.push(`payout_held books hold ${held} micro-credits; payouts in flight total ${sum(inFlight)}`);

  return {
    chain_id: chain.chainId,
    treasury: chain.treasuryAddress,
    head,
    confirmations: chain.confirmations,
    deposits: {
      credited: credited.length,
      credited_micro_credits: sum(credited).toString(),
      ledger_micro_credits: ledgerDeposits.toString(),
      unclaimed: unclaimed.length,
      unclaimed_micro_credits: sum(unclaimed).toString(),
      pending: deposits.filter((d) => d.status === 'pending').length,
    },
    payouts: {
      settled: settled.length,
      settled_micro_credits: sum(settled).toString(),
      ledger_micro_credits: ledgerPayouts.toString(),
      in_flight: inFlight.length,
      in_flight_micro_credits: sum(inFlight).toString(),
      held_micro_credits: held.toString(),
    },
    differences,
  };
}
