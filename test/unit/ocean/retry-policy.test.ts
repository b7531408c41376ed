import { describe, expect, it } from 'vitest';
import { OceanError } from '../../../src/ocean/ocean-error.js';
import { withRetry } from '../../../src/ocean/retry-policy.js';
import { classifyRpcError } from '../../../src/ocean/rpc-errors.js';

const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

describe('retry policy', () => {
  it('retries transient faults and returns the first success', async () => {
    let calls = 0;
    const value = await withRetry('x', fast, async () => {
      if (++calls < 3) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the bounded attempts with a typed error keeping the last code', async () => {
    let calls = 0;
    const err = await withRetry('placeOrder', fast, async () => {
      calls++;
      throw new OceanError('tx_dropped', 'gone');
    }).catch((e) => e);
    expect(calls).toBe(3);
    expect(err).toBeInstanceOf(OceanError);
    expect(err.code).toBe('tx_dropped');
    expect(err.message).toContain('3 attempt');
  });

  it('does not retry what cannot succeed', async () => {
    let calls = 0;
    const err = await withRetry('x', fast, async () => {
      calls++;
      throw new OceanError('invalid_argument', 'bad');
    }).catch((e) => e);
    expect(calls).toBe(1);
    expect(err.code).toBe('invalid_argument');
  });

  it('classifies node and ethers errors', () => {
    expect(classifyRpcError(Object.assign(new Error('nonce has already been used'), { code: 'NONCE_EXPIRED' }))).toEqual({ code: 'nonce_conflict', retryable: true });
    expect(classifyRpcError(new TypeError('fetch failed'))).toEqual({ code: 'rpc_unavailable', retryable: true });
    expect(classifyRpcError(Object.assign(new Error('x'), { code: 'CALL_EXCEPTION' }))).toEqual({ code: 'call_reverted', retryable: false });
    expect(classifyRpcError(new Error('something else')).retryable).toBe(false);
  });
});
