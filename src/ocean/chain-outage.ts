// Tells a chain outage (the RPC unreachable, a transaction that timed out or was dropped) from a
// chain answer, anywhere in an error's cause chain, so a request it broke answers 503 with
// Retry-After instead of a 500: the same call made again later succeeds. A DDO Ocean's validator
// refuses answers 400: that request will never succeed as it is.
import { AppError } from '../errors/app-error.js';
import { OceanError } from './ocean-error.js';
import { classifyRpcError } from './rpc-errors.js';

const OUTAGE_CODES = new Set(['rpc_unavailable', 'tx_timeout', 'tx_dropped', 'nonce_conflict']);

export function isChainOutage(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof OceanError && OUTAGE_CODES.has(current.code)) return true;
    if (!(current instanceof OceanError) && current instanceof Error && classifyRpcError(current).code === 'rpc_unavailable') return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/** The 503 a chain outage answers with, or null for any other error. */
export function chainOutageProblem(err: unknown): AppError | null {
  if (!isChainOutage(err)) return null;
  return new AppError('chain_unavailable', 'the chain could not be reached; nothing was changed, retry shortly', {
    headers: { 'Retry-After': '5' },
    cause: err,
  });
}

/** The problem an Ocean failure answers a request with: 400 for a DDO Ocean refuses, 503 for an outage. */
export function oceanProblem(err: unknown): AppError | null {
  if (err instanceof OceanError && err.code === 'ddo_invalid') return new AppError('model_rejected', err.message, { field: 'body', cause: err });
  return chainOutageProblem(err);
}
