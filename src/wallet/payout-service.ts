// Payouts of earnings to an owner's bound address. A request holds the earnings in the ledger
// (earnings → payout_held, refused when they do not cover it) and queues the payout in one
// transaction. The processor then signs one OCEAN transfer per address for everything queued to it
// (stored before broadcast), broadcasts, and on confirmation settles (payout_held → payouts, the tx
// hash in the ledger entry's reason), or releases the hold back to earnings if the transfer failed.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, isNotNull, max, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { InsufficientFundsError, post } from '../credits/credit-ledger.js';
import { accountBalances, ensureAccountBooks, ensurePayoutHeldBook, ensureSystemBook } from '../credits/ledger-books.js';
import type { Db, Tx } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { formatUnits, weiForCredits } from './token-rates.js';
import type { Treasury } from './treasury.js';
import type { WalletChain } from './wallet-chain.js';
import { accountWallets, walletPayouts } from './wallet-schema.js';

export type PayoutRow = typeof walletPayouts.$inferSelect;

/** Serialises signing across gateway replicas, so two never hand out the same nonce. */
const SIGNING_LOCK = 'posthuman:wallet-payout-signing';

export interface PayoutTickReport {
  signed: number;
  settled: number;
  released: number;
}

export function createPayoutService(deps: { db: Db; chain: WalletChain; treasury: Treasury; minPayout: bigint; log: FastifyBaseLogger }) {
  const { db, chain, treasury, log } = deps;
  const token = chain.ocean;

  /** Holds `microCredits` of the account's earnings and queues a payout to its bound address. */
  async function request(tx: Tx, accountId: string, microCredits: bigint): Promise<PayoutRow> {
    const [bound] = await tx.select().from(accountWallets).where(eq(accountWallets.accountId, accountId));
    if (!bound) {
      throw new AppError('conflict', 'this account has no bound wallet address: sign in with your wallet (or bind one with POST /v1/account/wallet) first');
    }
    if (microCredits < deps.minPayout) {
      throw new AppError('validation_failed', `the smallest payout is ${deps.minPayout} micro-credits (PAYOUT_MIN)`, { field: 'body.amount' });
    }
    const wei = weiForCredits(microCredits, token);
    if (wei === 0n) throw new AppError('validation_failed', 'this amount is worth less than one token base unit', { field: 'body.amount' });
    const id = randomUUID();
    const books = await ensureAccountBooks(tx, accountId);
    const held = await ensurePayoutHeldBook(tx, accountId);
    let hold: Awaited<ReturnType<typeof post>>;
    try {
      hold = await post(tx, {
        kind: 'payout_hold',
        idempotencyKey: `payout-hold:${id}`,
        accountId,
        reason: `payout ${id}: ${formatUnits(wei, token.decimals)} ${token.symbol} to ${bound.address} (held until confirmed on chain)`,
        metadata: { payout_id: id, chain_id: chain.chainId, address: bound.address, amount_wei: wei.toString() },
        legs: [
          { bookId: books.earnings, amount: -microCredits },
          { bookId: held, amount: microCredits },
        ],
      });
    } catch (err) {
      if (err instanceof InsufficientFundsError) throw new InsufficientFundsError('your earnings do not cover this payout');
      throw err;
    }
    const [row] = await tx
      .insert(walletPayouts)
      .values({ id, accountId, address: bound.address, chainId: chain.chainId, token: token.address, microCredits, amountWei: wei, holdTransactionId: hold.transactionId })
      .returning();
    return row;
  }

  async function finish(rows: PayoutRow[], outcome: 'settled' | 'released', why?: string): Promise<number> {
    let done = 0;
    await db.transaction(async (tx) => {
      for (const p of rows) {
        const [row] = await tx.select().from(walletPayouts).where(eq(walletPayouts.id, p.id)).for('update');
        if (row?.status !== 'sent') continue;
        const held = await ensurePayoutHeldBook(tx, row.accountId);
        const amount = formatUnits(row.amountWei, token.decimals);
        const to =
          outcome === 'settled'
            ? { bookId: await ensureSystemBook(tx, 'payouts'), reason: `payout ${row.id}: ${amount} ${token.symbol} sent to ${row.address} in tx ${row.txHash}` }
            : { bookId: (await ensureAccountBooks(tx, row.accountId)).earnings, reason: `payout ${row.id} released: ${why} (tx ${row.txHash})` };
        const posted = await post(tx, {
          kind: outcome === 'settled' ? 'payout_settle' : 'payout_release',
          idempotencyKey: `payout-${outcome === 'settled' ? 'settle' : 'release'}:${row.id}`,
          accountId: row.accountId,
          reason: to.reason,
          metadata: { payout_id: row.id, chain_id: row.chainId, tx_hash: row.txHash },
          legs: [
            { bookId: held, amount: -row.microCredits },
            { bookId: to.bookId, amount: row.microCredits },
          ],
        });
        await tx
          .update(walletPayouts)
          .set({ status: outcome, settleTransactionId: posted.transactionId, settledAt: new Date(), error: why ?? null })
          .where(eq(walletPayouts.id, row.id));
        done++;
      }
    });
    return done;
  }

  /** Signs one transfer per address for every queued payout; stored before anything is broadcast. */
  async function signQueued(): Promise<number> {
    const queued = await db.select({ id: walletPayouts.id }).from(walletPayouts).where(and(eq(walletPayouts.chainId, chain.chainId), eq(walletPayouts.status, 'queued'))).limit(200);
    if (queued.length === 0) return 0;
    const [fees, chainNonce] = await Promise.all([treasury.fees(), treasury.pendingNonce()]);
    return db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${SIGNING_LOCK}, 0))`);
      const rows = await tx
        .select()
        .from(walletPayouts)
        .where(and(inArray(walletPayouts.id, queued.map((q) => q.id)), eq(walletPayouts.status, 'queued')))
        .for('update');
      const [inFlight] = await tx
        .select({ nonce: max(walletPayouts.txNonce) })
        .from(walletPayouts)
        .where(and(eq(walletPayouts.chainId, chain.chainId), eq(walletPayouts.status, 'sent'), isNotNull(walletPayouts.txNonce)));
      let nonce = Math.max(chainNonce, (inFlight?.nonce ?? -1) + 1);
      const byAddress = new Map<string, PayoutRow[]>();
      for (const r of rows) byAddress.set(r.address, [...(byAddress.get(r.address) ?? []), r]);
      for (const [address, group] of byAddress) {
        const total = group.reduce((sum, r) => sum + r.amountWei, 0n);
        const signed = await treasury.signTransfer(token.address, address, total, nonce++, fees);
        await tx
          .update(walletPayouts)
          .set({ status: 'sent', txHash: signed.hash, txNonce: signed.nonce, rawTx: signed.raw, sentAt: new Date() })
          .where(inArray(walletPayouts.id, group.map((r) => r.id)));
      }
      return rows.length;
    });
  }

  /** Broadcasts, then settles or releases every sent transfer the chain has decided. */
  async function advanceSent(report: PayoutTickReport) {
    const sent = await db.select().from(walletPayouts).where(and(eq(walletPayouts.chainId, chain.chainId), eq(walletPayouts.status, 'sent'))).orderBy(walletPayouts.txNonce);
    const byTx = new Map<string, PayoutRow[]>();
    for (const r of sent) if (r.txHash) byTx.set(r.txHash, [...(byTx.get(r.txHash) ?? []), r]);
    const head = byTx.size ? await chain.provider.getBlockNumber() : 0;
    for (const [hash, group] of byTx) {
      let receipt = await chain.provider.getTransactionReceipt(hash);
      if (!receipt && !(await chain.provider.getTransaction(hash))) {
        // Not known to the node: if its nonce is used by another transaction it can never be mined.
        if ((await treasury.minedNonce()) > (group[0].txNonce ?? 0)) {
          report.released += await finish(group, 'released', 'the transfer was replaced on chain and never mined');
          continue;
        }
        try {
          await treasury.broadcast(group[0].rawTx as string);
        } catch (err) {
          log.warn({ err, tx: hash }, 'broadcasting a payout transfer failed; retried on the next pass');
          continue;
        }
        receipt = await chain.provider.getTransactionReceipt(hash);
      }
      if (!receipt) continue;
      if (receipt.status !== 1) {
        report.released += await finish(group, 'released', 'the transfer failed on chain (reverted)');
      } else if (Math.max(head, receipt.blockNumber) - receipt.blockNumber + 1 >= chain.confirmations) {
        report.settled += await finish(group, 'settled');
      }
    }
  }

  let running: Promise<PayoutTickReport> | null = null;
  return {
    request,
    /** One pass: sign what is queued, broadcast, settle or release; concurrent calls share it. */
    tick(): Promise<PayoutTickReport> {
      running ??= (async () => {
        const report: PayoutTickReport = { signed: await signQueued(), settled: 0, released: 0 };
        await advanceSent(report);
        return report;
      })().finally(() => {
        running = null;
      });
      return running;
    },
    /** Resolves when no pass is in flight. */
    async idle(): Promise<void> {
      await running?.catch(() => undefined);
    },
    async earnings(accountId: string) {
      return (await accountBalances(db, accountId)).earnings;
    },
  };
}

export type PayoutService = ReturnType<typeof createPayoutService>;
