// Sorts the errors an RPC node and ethers throw into our stable codes, and says which are worth a retry.
import { OceanError, type OceanErrorCode } from './ocean-error.js';

export interface ClassifiedError {
  code: OceanErrorCode;
  retryable: boolean;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const parts = [err.message];
    let cause: unknown = err.cause;
    for (let i = 0; i < 3 && cause instanceof Error; i++) {
      parts.push(cause.message);
      cause = cause.cause;
    }
    return parts.join(' | ');
  }
  return String(err);
}

const NETWORK_PATTERNS = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|fetch failed|network|timeout|other side closed/i;

export function classifyRpcError(err: unknown): ClassifiedError {
  if (err instanceof OceanError) {
    const retryable = ['rpc_unavailable', 'nonce_conflict', 'tx_dropped', 'tx_timeout', 'tx_reverted'].includes(err.code);
    return { code: err.code, retryable };
  }
  const code = (err as { code?: unknown } | null)?.code;
  const msg = messageOf(err);
  if (code === 'NONCE_EXPIRED' || code === 'REPLACEMENT_UNDERPRICED' || /nonce|already known|replacement/i.test(msg)) {
    return { code: 'nonce_conflict', retryable: true };
  }
  if (code === 'NETWORK_ERROR' || code === 'TIMEOUT' || code === 'SERVER_ERROR' || NETWORK_PATTERNS.test(msg)) {
    return { code: 'rpc_unavailable', retryable: true };
  }
  // A reverted eth_call is deterministic: asking again gives the same answer.
  if (code === 'CALL_EXCEPTION') return { code: 'call_reverted', retryable: false };
  return { code: 'order_failed', retryable: false };
}

/** Wraps any error as an OceanError, keeping the original as `cause`. */
export function toOceanError(err: unknown, context: string, txHash?: string): OceanError {
  if (err instanceof OceanError) return err;
  const { code } = classifyRpcError(err);
  return new OceanError(code, `${context}: ${messageOf(err).slice(0, 300)}`, { cause: err, txHash });
}
