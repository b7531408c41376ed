// Ledger side of deposits: credit a confirmed deposit to its account exactly once (the row's status
// changes only from pending/unclaimed, and the ledger transaction's key is the log's identity), and
// reverse one that a reorg removed after it was credited.
import { and, eq, inArray } from 'drizzle-orm';
import { post } from '../credits/credit-ledger.js';
import { ensureAccountBooks, ensureSystemBook } from '../credits/ledger-books.js';
import type { Tx } from '../db/database.js';
import { formatUnits } from './token-rates.js';
import { walletDeposits } from './wallet-schema.js';

export type DepositRow = typeof walletDeposits.$inferSelect;

const logId = (d: Pick<DepositRow, 'chainId' | 'txHash' | 'logIndex'>) => `${d.chainId}:${d.txHash}:${d.logIndex}`;

/** Credits a pending or unclaimed deposit to `accountId`; false when another caller did it first. */
export async function creditDeposit(tx: Tx, deposit: DepositRow, accountId: string, symbol: string, decimals: number): Promise<boolean> {
  const [claimed] = await tx
    .update(walletDeposits)
    .set({ status: 'credited', accountId, settledAt: new Date() })
    .where(and(eq(walletDeposits.id, deposit.id), inArray(walletDeposits.status, ['pending', 'unclaimed'])))
    .returning({ id: walletDeposits.id });
  if (!claimed) return false;
  if (deposit.microCredits === 0n) return true;
  const books = await ensureAccountBooks(tx, accountId);
  const source = await ensureSystemBook(tx, 'deposits');
  const posted = await post(tx, {
    kind: 'deposit',
    idempotencyKey: `deposit:${logId(deposit)}`,
    accountId,
    reason: `deposit of ${formatUnits(deposit.amountWei, decimals)} ${symbol} from ${deposit.fromAddress} in tx ${deposit.txHash} (log ${deposit.logIndex})`,
    metadata: { chain_id: deposit.chainId, tx_hash: deposit.txHash, log_index: deposit.logIndex, token: deposit.token, amount_wei: deposit.amountWei.toString() },
    legs: [
      { bookId: source, amount: -deposit.microCredits },
      { bookId: books.available, amount: deposit.microCredits },
    ],
  });
  await tx.update(walletDeposits).set({ ledgerTransactionId: posted.transactionId }).where(eq(walletDeposits.id, deposit.id));
  return true;
}

/** Marks a confirmed deposit from an address no account is bound to: held for the operator, never lost. */
export async function holdUnclaimed(tx: Tx, deposit: DepositRow): Promise<boolean> {
  const rows = await tx
    .update(walletDeposits)
    .set({ status: 'unclaimed', settledAt: new Date() })
    .where(and(eq(walletDeposits.id, deposit.id), eq(walletDeposits.status, 'pending')))
    .returning({ id: walletDeposits.id });
  return rows.length === 1;
}

/**
 * Takes back a credited deposit a reorg removed. Refused (InsufficientFundsError, nothing changed)
 * when the account has already spent the credit: the deposit stays `credited` and the reconciliation
 * report names it for the operator.
 */
export async function reverseDeposit(tx: Tx, deposit: DepositRow): Promise<boolean> {
  const [row] = await tx.select().from(walletDeposits).where(eq(walletDeposits.id, deposit.id)).for('update');
  if (row?.status !== 'credited' || !row.accountId) return false;
  let reversal: string | null = null;
  if (row.microCredits > 0n) {
    const books = await ensureAccountBooks(tx, row.accountId);
    const source = await ensureSystemBook(tx, 'deposits');
    const posted = await post(tx, {
      kind: 'deposit_reversal',
      idempotencyKey: `deposit-reversal:${logId(row)}`,
      accountId: row.accountId,
      reason: `deposit in tx ${row.txHash} (log ${row.logIndex}) reversed: a chain reorganisation removed it`,
      metadata: { chain_id: row.chainId, tx_hash: row.txHash, log_index: row.logIndex },
      legs: [
        { bookId: books.available, amount: -row.microCredits },
        { bookId: source, amount: row.microCredits },
      ],
    });
    reversal = posted.transactionId;
  }
  await tx.update(walletDeposits).set({ status: 'reversed', reversalTransactionId: reversal }).where(eq(walletDeposits.id, row.id));
  return true;
}

/** Credits every unclaimed deposit from `address` to the account just bound to it (first sign-in). */
export async function claimUnclaimed(tx: Tx, address: string, accountId: string, tokens: { address: string; symbol: string; decimals: number }[]): Promise<number> {
  const rows = await tx
    .select()
    .from(walletDeposits)
    .where(and(eq(walletDeposits.fromAddress, address), eq(walletDeposits.status, 'unclaimed')))
    .for('update');
  let claimed = 0;
  for (const row of rows) {
    const token = tokens.find((t) => t.address === row.token);
    if (await creditDeposit(tx, row, accountId, token?.symbol ?? row.token, token?.decimals ?? 18)) claimed++;
  }
  return claimed;
}
