// Bounded retries with exponential backoff for chain calls: transient faults (RPC down, nonce race,
// dropped or reverted tx) are retried; the last error is rethrown as a typed OceanError.
import { OceanError } from './ocean-error.js';
import { classifyRpcError, toOceanError } from './rpc-errors.js';

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 4_000 };

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(
  what: string,
  policy: RetryPolicy,
  run: (attempt: number) => Promise<T>,
  onRetry?: (err: OceanError, attempt: number) => void,
): Promise<T> {
  let last: OceanError | undefined;
  let tries = 0;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    tries = attempt;
    try {
      return await run(attempt);
    } catch (err) {
      last = toOceanError(err, what);
      if (!classifyRpcError(last).retryable || attempt === policy.attempts) break;
      onRetry?.(last, attempt);
      // Full jitter: concurrent callers that failed together do not retry together.
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await delay(Math.round(cap / 2 + (Math.random() * cap) / 2));
    }
  }
  const final = last!;
  throw new OceanError(final.code, `${what} failed after ${tries} attempt(s): ${final.message}`, { cause: final, txHash: final.txHash });
}
