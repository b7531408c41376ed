// Waits for a transaction's receipt by polling with a deadline, and tells a reverted, a dropped and a
// merely slow transaction apart, so callers never treat an unconfirmed hash as a success. With
// confirmations, the receipt counts only once that many blocks are mined on top of its block and it
// is still there, in the same block: a reorg meanwhile sends the wait back to the mempool's answer.
// A sender that may replace the transaction (same nonce, higher fees) passes hooks: the wait then
// watches every hash of that nonce and tells the sender, at each poll, that none is mined yet.
import type { JsonRpcProvider, TransactionReceipt } from 'ethers';
import { OceanError } from './ocean-error.js';
import { toOceanError } from './rpc-errors.js';

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** Blocks mined on top of the transaction's block before it counts. Default 0 (counts once mined). */
  confirmations?: number;
}

/** For a transaction its sender may send again under the same nonce. */
export interface ReplacementHooks {
  /** Every hash sent for this nonce so far, oldest first. */
  hashes(): readonly string[];
  /**
   * Called at each poll while none of them is mined; `dropped` once no node has known any of them
   * for two checks in a row (instead of failing with tx_dropped). May send a replacement, or throw.
   */
  stillPending(dropped: boolean): Promise<void>;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first receipt among `hashes`, newest first (a replacement is the likelier one mined). */
async function firstReceipt(provider: JsonRpcProvider, hashes: readonly string[]): Promise<TransactionReceipt | null> {
  for (let i = hashes.length - 1; i >= 0; i--) {
    const receipt = await provider.getTransactionReceipt(hashes[i]);
    if (receipt) return receipt;
  }
  return null;
}

async function anyKnown(provider: JsonRpcProvider, hashes: readonly string[]): Promise<boolean> {
  for (let i = hashes.length - 1; i >= 0; i--) {
    if (await provider.getTransaction(hashes[i])) return true;
  }
  return false;
}

/**
 * Resolves with a receipt of status 1. Throws OceanError `tx_reverted` (status 0), `tx_dropped` (the
 * node no longer knows the tx, or a reorg removed it and no node took it back), `tx_timeout` (still
 * pending, or not yet deep enough, at the deadline) or `rpc_unavailable`.
 */
export async function waitForSuccess(
  provider: JsonRpcProvider,
  hash: string,
  options: WaitOptions = {},
  hooks?: ReplacementHooks,
): Promise<TransactionReceipt> {
  const hashes = () => hooks?.hashes() ?? [hash];
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 200;
  const confirmations = options.confirmations ?? 0;
  const deadline = Date.now() + timeoutMs;
  let rpcFailures = 0;
  let unknownChecks = 0;
  let lastKnownCheck = Date.now();
  /** The block a receipt was last seen in: a later miss means a reorg took it out. */
  let seenIn: number | undefined;
  for (;;) {
    try {
      const receipt = await firstReceipt(provider, hashes());
      rpcFailures = 0;
      if (receipt) {
        if (receipt.status !== 1) {
          throw new OceanError('tx_reverted', `transaction ${receipt.hash} reverted in block ${receipt.blockNumber}`, {
            txHash: receipt.hash,
          });
        }
        seenIn = receipt.blockNumber;
        if (confirmations <= 0) return receipt;
        const deep = await confirmedReceipt(provider, receipt, confirmations);
        if (deep) return deep;
        lastKnownCheck = Date.now();
        unknownChecks = 0;
        if (Date.now() + pollMs > deadline) break;
        await delay(pollMs);
        continue;
      }
      // Every second, ask whether the node still holds the tx; twice unknown in a row = dropped
      // (once could be a load-balanced RPC whose backends have not all seen it yet).
      let dropped = false;
      if (Date.now() - lastKnownCheck >= 1_000) {
        lastKnownCheck = Date.now();
        unknownChecks = (await anyKnown(provider, hashes())) ? 0 : unknownChecks + 1;
        if (unknownChecks >= 2 && hooks) {
          unknownChecks = 0;
          dropped = true;
        } else if (unknownChecks >= 2) {
          const detail = seenIn === undefined ? 'is no longer known to the node' : `was mined in block ${seenIn}, then a reorg removed it and the node no longer knows it`;
          throw new OceanError('tx_dropped', `transaction ${hash} ${detail}`, { txHash: hash });
        }
      }
      await hooks?.stillPending(dropped);
    } catch (err) {
      if (err instanceof OceanError) throw err;
      // A few transient RPC failures are tolerated inside the deadline; a dead RPC is reported.
      if (++rpcFailures >= 3) throw toOceanError(err, `waiting for ${hash}`, hash);
    }
    if (Date.now() + pollMs > deadline) break;
    await delay(pollMs);
  }
  const state = seenIn === undefined ? 'not mined' : `not ${confirmations} block(s) deep (mined in block ${seenIn})`;
  throw new OceanError('tx_timeout', `transaction ${hash} ${state} after ${timeoutMs} ms`, { txHash: hash });
}

/**
 * The receipt once `confirmations` blocks are on top of its block and a fresh read still finds it in
 * that block; undefined while it is not deep enough, or when a reorg moved or removed it meanwhile.
 */
export async function confirmedReceipt(provider: JsonRpcProvider, receipt: TransactionReceipt, confirmations: number): Promise<TransactionReceipt | undefined> {
  const head = await provider.getBlockNumber();
  if (head < receipt.blockNumber + confirmations) return undefined;
  const again = await provider.getTransactionReceipt(receipt.hash);
  return again && again.blockHash === receipt.blockHash && again.status === 1 ? again : undefined;
}
