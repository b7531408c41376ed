// Waits for a transaction's receipt by polling with a deadline, and tells a reverted, a dropped and a
// merely slow transaction apart, so callers never treat an unconfirmed hash as a success.
import type { JsonRpcProvider, TransactionReceipt } from 'ethers';
import { OceanError } from './ocean-error.js';
import { toOceanError } from './rpc-errors.js';

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with a receipt of status 1. Throws OceanError `tx_reverted` (status 0), `tx_dropped` (the
 * node no longer knows the tx), `tx_timeout` (still pending at the deadline) or `rpc_unavailable`.
 */
export async function waitForSuccess(
  provider: JsonRpcProvider,
  hash: string,
  options: WaitOptions = {},
): Promise<TransactionReceipt> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let rpcFailures = 0;
  let unknownChecks = 0;
  let lastKnownCheck = Date.now();
  for (;;) {
    try {
      const receipt = await provider.getTransactionReceipt(hash);
      rpcFailures = 0;
      if (receipt) {
        if (receipt.status !== 1) {
          throw new OceanError('tx_reverted', `transaction ${hash} reverted in block ${receipt.blockNumber}`, {
            txHash: hash,
          });
        }
        return receipt;
      }
      // Every second, ask whether the node still holds the tx; twice unknown in a row = dropped
      // (once could be a load-balanced RPC whose backends have not all seen it yet).
      if (Date.now() - lastKnownCheck >= 1_000) {
        lastKnownCheck = Date.now();
        const known = await provider.getTransaction(hash);
        unknownChecks = known === null ? unknownChecks + 1 : 0;
        if (unknownChecks >= 2) {
          throw new OceanError('tx_dropped', `transaction ${hash} is no longer known to the node`, { txHash: hash });
        }
      }
    } catch (err) {
      if (err instanceof OceanError) throw err;
      // A few transient RPC failures are tolerated inside the deadline; a dead RPC is reported.
      if (++rpcFailures >= 3) throw toOceanError(err, `waiting for ${hash}`, hash);
    }
    if (Date.now() + pollMs > deadline) break;
    await delay(pollMs);
  }
  throw new OceanError('tx_timeout', `transaction ${hash} not mined after ${timeoutMs} ms`, { txHash: hash });
}
