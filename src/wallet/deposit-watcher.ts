// Watches the chain for token transfers to the treasury and turns them into credit. Each tick reads
// Transfer logs from the cursor (the last block read, kept in Postgres with its hash) to the head,
// records each log once (unique chain id + tx hash + log index), and credits those with enough
// confirmations after checking their receipt again. A cursor whose block hash changed is a reorg:
// the watcher steps back, reads again, and reverses credited deposits the new chain no longer holds.
import { and, eq, gt, inArray } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { getAddress, type Log, type TransactionReceipt, id as keccakId, zeroPadValue } from 'ethers';
import { accountWallets, chainCursors, walletDeposits } from './wallet-schema.js';
import type { Db } from '../db/database.js';
import { creditDeposit, type DepositRow, holdUnclaimed, reverseDeposit } from './deposit-ledger.js';
import { creditsForWei } from './token-rates.js';
import type { DepositToken, WalletChain } from './wallet-chain.js';

export const TRANSFER_TOPIC = keccakId('Transfer(address,address,uint256)');
/** Blocks per eth_getLogs call (public RPCs cap ranges). */
const LOG_RANGE = 2000;

export interface WatchReport {
  head: number;
  /** Logs recorded or re-recorded this tick. */
  seen: number;
  credited: number;
  unclaimed: number;
  dropped: number;
  reversed: number;
  /** True when the cursor's block had changed (a reorg) and the watcher stepped back. */
  reorg: boolean;
}

export function depositCursorName(chain: Pick<WalletChain, 'chainId' | 'treasuryAddress'>) {
  return `deposits:${chain.chainId}:${chain.treasuryAddress}`;
}

export function createDepositWatcher(deps: { db: Db; chain: WalletChain; log: FastifyBaseLogger }) {
  const { db, chain, log } = deps;
  const cursorName = depositCursorName(chain);
  const reorgDepth = Math.max(64, chain.confirmations * 4);
  const tokenOf = (address: string) => chain.tokens.find((t) => t.address === address);

  async function readCursor() {
    const [row] = await db.select().from(chainCursors).where(eq(chainCursors.name, cursorName));
    return row;
  }

  async function writeCursor(blockNumber: number, blockHash: string) {
    await db
      .insert(chainCursors)
      .values({ name: cursorName, chainId: chain.chainId, blockNumber, blockHash })
      .onConflictDoUpdate({ target: chainCursors.name, set: { blockNumber, blockHash, updatedAt: new Date() } });
  }

  /** Records a transfer log; a log seen before changes only if it was pending or dropped (re-mined). */
  async function record(entry: Log, token: DepositToken) {
    const wei = BigInt(entry.data);
    const values = {
      chainId: chain.chainId,
      txHash: entry.transactionHash,
      logIndex: entry.index,
      blockNumber: entry.blockNumber,
      blockHash: entry.blockHash,
      token: token.address,
      fromAddress: getAddress(`0x${entry.topics[1].slice(26)}`),
      toAddress: getAddress(`0x${entry.topics[2].slice(26)}`),
      amountWei: wei,
      microCredits: creditsForWei(wei, token).microCredits,
    };
    await db
      .insert(walletDeposits)
      .values(values)
      .onConflictDoUpdate({
        target: [walletDeposits.chainId, walletDeposits.txHash, walletDeposits.logIndex],
        set: { blockNumber: values.blockNumber, blockHash: values.blockHash, status: 'pending' },
        setWhere: inArray(walletDeposits.status, ['pending', 'dropped']),
      });
  }

  /** The transfer as the chain holds it now, or null if the log is gone (reorged away). */
  function matchLog(receipt: TransactionReceipt | null, d: DepositRow): Log | null {
    if (receipt?.status !== 1) return null;
    const entry = receipt.logs.find((l) => l.index === d.logIndex);
    if (!entry || getAddress(entry.address) !== d.token || entry.topics[0] !== TRANSFER_TOPIC) return null;
    if (getAddress(`0x${entry.topics[1].slice(26)}`) !== d.fromAddress || getAddress(`0x${entry.topics[2].slice(26)}`) !== d.toAddress) return null;
    return BigInt(entry.data) === d.amountWei ? entry : null;
  }

  async function scan(from: number, to: number): Promise<number> {
    let seen = 0;
    const topics = [TRANSFER_TOPIC, null, zeroPadValue(chain.treasuryAddress, 32)];
    for (let start = from; start <= to; start += LOG_RANGE) {
      const end = Math.min(to, start + LOG_RANGE - 1);
      const logs = await chain.provider.getLogs({ address: chain.tokens.map((t) => t.address), topics, fromBlock: start, toBlock: end });
      for (const entry of logs) {
        const token = tokenOf(getAddress(entry.address));
        if (!token || entry.removed) continue;
        await record(entry, token);
        seen++;
      }
    }
    return seen;
  }

  /** After a reorg: credited deposits above `from` that the chain no longer holds are reversed. */
  async function recheckCredited(from: number, report: WatchReport) {
    const rows = await db
      .select()
      .from(walletDeposits)
      .where(and(eq(walletDeposits.chainId, chain.chainId), eq(walletDeposits.status, 'credited'), gt(walletDeposits.blockNumber, from)));
    for (const d of rows) {
      const still = matchLog(await chain.provider.getTransactionReceipt(d.txHash), d);
      if (still) {
        await db.update(walletDeposits).set({ blockNumber: still.blockNumber, blockHash: still.blockHash }).where(eq(walletDeposits.id, d.id));
        continue;
      }
      try {
        if (await db.transaction((tx) => reverseDeposit(tx, d))) report.reversed++;
      } catch (err) {
        log.error({ err, deposit: d.id, tx: d.txHash }, 'a reorg removed a credited deposit whose credit is already spent; the reconciliation report lists it');
      }
    }
  }

  /** Pending deposits: dropped if the chain lost them, credited (or held unclaimed) once confirmed. */
  async function settlePending(head: number, report: WatchReport) {
    const pending = await db
      .select()
      .from(walletDeposits)
      .where(and(eq(walletDeposits.chainId, chain.chainId), eq(walletDeposits.status, 'pending')))
      .limit(500);
    for (const d of pending) {
      const now = matchLog(await chain.provider.getTransactionReceipt(d.txHash), d);
      if (!now) {
        const rows = await db
          .update(walletDeposits)
          .set({ status: 'dropped', settledAt: new Date() })
          .where(and(eq(walletDeposits.id, d.id), eq(walletDeposits.status, 'pending')))
          .returning({ id: walletDeposits.id });
        report.dropped += rows.length;
        continue;
      }
      if (now.blockHash !== d.blockHash) {
        await db.update(walletDeposits).set({ blockNumber: now.blockNumber, blockHash: now.blockHash }).where(eq(walletDeposits.id, d.id));
      }
      if (head - now.blockNumber + 1 < chain.confirmations) continue;
      const token = tokenOf(d.token);
      await db.transaction(async (tx) => {
        const [bound] = await tx.select().from(accountWallets).where(eq(accountWallets.address, d.fromAddress));
        if (bound) {
          if (await creditDeposit(tx, d, bound.accountId, token?.symbol ?? d.token, token?.decimals ?? 18)) report.credited++;
        } else if (await holdUnclaimed(tx, d)) {
          report.unclaimed++;
        }
      });
    }
  }

  let running: Promise<WatchReport> | null = null;

  async function runTick(): Promise<WatchReport> {
    const headBlock = await chain.provider.getBlock('latest');
    if (!headBlock?.hash) throw new Error('the chain returned no head block');
    const head = headBlock.number;
    const report: WatchReport = { head, seen: 0, credited: 0, unclaimed: 0, dropped: 0, reversed: 0, reorg: false };
    const cursor = await readCursor();
    let from: number;
    if (!cursor) {
      from = chain.startBlock === 'head' ? head : chain.startBlock;
    } else {
      const block = cursor.blockNumber <= head ? await chain.provider.getBlock(cursor.blockNumber) : null;
      if (block?.hash === cursor.blockHash) {
        from = cursor.blockNumber + 1;
      } else {
        report.reorg = true;
        from = Math.max(0, Math.min(cursor.blockNumber, head) - reorgDepth);
        log.warn({ cursor: cursor.blockNumber, head, from }, 'chain reorganisation under the deposit cursor; reading again');
        await recheckCredited(from - 1, report);
      }
    }
    if (from <= head) report.seen = await scan(from, head);
    await writeCursor(head, headBlock.hash);
    await settlePending(head, report);
    return report;
  }

  return {
    cursorName,
    /** One pass; concurrent calls share the pass in flight. */
    tick(): Promise<WatchReport> {
      running ??= runTick().finally(() => {
        running = null;
      });
      return running;
    },
    /** Resolves when no pass is in flight (before closing the database under it). */
    async idle(): Promise<void> {
      await running?.catch(() => undefined);
    },
    /** The head the watcher last read (its cursor), for showing confirmations without an RPC call. */
    async lastHead(): Promise<number | null> {
      return (await readCursor())?.blockNumber ?? null;
    },
  };
}

export type DepositWatcher = ReturnType<typeof createDepositWatcher>;
