import { describe, expect, it } from 'vitest';
import { JOB_FAILURE_CODES, JOB_FAILURE_MESSAGES, publicJobError } from '../../../src/jobs/job-errors.js';

describe('publicJobError', () => {
  it('never passes library or database text through for codes whose messages are not authored here', () => {
    const sql = 'duplicate key value violates unique constraint "jobs_order_tx_unique" (update "jobs" set ... params: 0xabc)';
    for (const code of ['order_failed', 'rpc_unavailable', 'model_load_failed', 'worker_error']) {
      const shown = publicJobError(code, sql);
      expect(shown.code).toBe(code);
      expect(shown.message).not.toContain('duplicate key');
      expect(shown.message).toBe(JOB_FAILURE_MESSAGES[code]);
    }
    // A code outside the catalog becomes worker_error, so the OpenAPI enum holds.
    expect(publicJobError('call_reverted', sql)).toEqual({ code: 'worker_error', message: JOB_FAILURE_MESSAGES.worker_error });
    expect(JOB_FAILURE_CODES).toContain('worker_lost');
  });

  it('keeps the messages the project writes from public facts', () => {
    expect(publicJobError('context_length_exceeded', 'input of 200 tokens does not fit the context length of 128 tokens').message).toContain('200 tokens');
    expect(publicJobError('invalid_order', 'wrong consumer: 0x12').message).toBe('wrong consumer: 0x12');
  });
});
