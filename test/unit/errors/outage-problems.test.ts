import { describe, expect, it } from 'vitest';
import { infraOutageProblem } from '../../../src/db/infra-errors.js';
import { chainOutageProblem } from '../../../src/ocean/chain-outage.js';
import { OceanError } from '../../../src/ocean/ocean-error.js';

describe('outage problems', () => {
  it('maps a terminated Postgres connection, deep in the cause chain, to 503 with Retry-After', () => {
    const pg = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const problem = infraOutageProblem(new Error('Failed query: insert into jobs', { cause: pg }));
    expect(problem).toMatchObject({ code: 'service_unavailable', status: 503, headers: { 'Retry-After': '1' } });
    expect(problem?.message).not.toContain('insert');
    expect(infraOutageProblem(new Error('Connection terminated unexpectedly'))?.status).toBe(503);
  });

  it('leaves other errors alone (a constraint violation is a bug, not an outage)', () => {
    expect(infraOutageProblem(Object.assign(new Error('duplicate key value'), { code: '23505' }))).toBeNull();
    expect(chainOutageProblem(new OceanError('call_reverted', 'execution reverted'))).toBeNull();
  });

  it('maps a chain outage to 503 chain_unavailable, also when wrapped by a publish failure', () => {
    const rpc = new OceanError('rpc_unavailable', 'connect ECONNREFUSED 127.0.0.1:8545');
    const wrapped = new OceanError('publish_failed', 'publishing failed (confirmed: none)', { cause: rpc });
    expect(chainOutageProblem(wrapped)).toMatchObject({ code: 'chain_unavailable', status: 503, headers: { 'Retry-After': '5' } });
    expect(chainOutageProblem(wrapped)?.message).not.toContain('127.0.0.1');
  });
});

describe('problem bodies', () => {
  it('say whether the same request may succeed later', async () => {
    const { problemBody } = await import('../../../src/errors/error-handler.js');
    const { AppError } = await import('../../../src/errors/app-error.js');
    expect(problemBody(new AppError('chain_unavailable', 'down'), 'r1')).toMatchObject({ status: 503, retryable: true, requestId: 'r1' });
    expect(problemBody(new AppError('rate_limited', 'slow down'), 'r2').retryable).toBe(true);
    expect(problemBody(new AppError('validation_failed', 'bad'), 'r3').retryable).toBe(false);
    expect(problemBody(new AppError('insufficient_credit', 'top up'), 'r4').retryable).toBe(false);
  });
});
