// The public log routes and receipt verification are limited per client address.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedAccount, createTestApp, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ PUBLIC_RATE_LIMIT_PER_MINUTE: '3' });
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

const get = (url: string, remoteAddress: string) => t.app.inject({ method: 'GET', url, remoteAddress });

describe('per-client limits on public routes', () => {
  it('allows PUBLIC_RATE_LIMIT_PER_MINUTE requests per address across the log routes, then 429 with Retry-After', async () => {
    const ip = '198.51.100.7';
    const first = await get('/v1/log/tree-head', ip);
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe('3');
    expect(first.headers['ratelimit-remaining']).toBe('2');
    expect((await get('/v1/log/proof/consistency?from=1&to=1', ip)).statusCode).not.toBe(429);
    expect((await get('/v1/log/tree-head', ip)).statusCode).toBe(200);

    for (const url of ['/v1/log/tree-head', `/v1/log/proof/inclusion?receipt=${randomUUID()}`, '/v1/log/proof/consistency?from=1&to=1']) {
      const refused = await get(url, ip);
      expect(refused.statusCode, url).toBe(429);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    }

    // Another client is not affected.
    expect((await get('/v1/log/tree-head', '198.51.100.8')).statusCode).toBe(200);
  });

  it('holds POST /v1/receipts/verify to the same per-address budget, even for a key without its own limit', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1 });
    const ip = '203.0.113.5';
    const verify = () =>
      t.app.inject({ method: 'POST', url: '/v1/receipts/verify', headers, remoteAddress: ip, payload: { receipt: 'not.a.jws' } });
    for (let i = 0; i < 3; i++) expect((await verify()).statusCode).toBe(200);
    const refused = await verify();
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('rate_limited');
    expect((await get('/v1/log/tree-head', ip)).statusCode).toBe(429);
  });

  it('leaves unlimited routes alone: JWKS and the model list answer past the budget', async () => {
    const ip = '192.0.2.44';
    for (let i = 0; i < 5; i++) expect((await get('/v1/log/tree-head', ip)).statusCode).toBe(i < 3 ? 200 : 429);
    expect((await get('/.well-known/jwks.json', ip)).statusCode).toBe(200);
    expect((await get('/v1/models', ip)).statusCode).toBe(200);
  });
});
