import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../../src/redis/connect-redis.js';
import { buildApp } from '../../../src/app.js';
import { createFundedAccount, createTestApp, REDIS_URL, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

describe('health, readiness and metrics', () => {
  it('GET /healthz answers ok', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz reports Postgres and Redis reachable', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    // No worker runs for this app: ready for reads, degraded for new jobs.
    expect(res.json()).toEqual({
      status: 'degraded',
      checks: { postgres: 'ok', redis: 'ok', workers: 'none' },
      workers: { infer: 0, evaluate: 0, finetune: 0, audit: 0 },
    });
  });

  it('GET /readyz answers 503 naming Redis when its connection is gone', async () => {
    const redis = await connectRedis(REDIS_URL);
    const app = await buildApp({
      config: t.config,
      database: t.testDb.database,
      redis,
      operatorToken: t.operatorToken,
      logger: false,
    });
    try {
      await redis.quit();
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'down', workers: 'down' }, workers: {} });
    } finally {
      await app.close();
    }
  });

  it('GET /metrics exposes per-route request counts, latency histograms and ledger totals to the operator', async () => {
    await createFundedAccount(t, { credits: 1234 });
    await t.app.inject({ method: 'GET', url: '/healthz' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.operatorHeaders });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/posthuman_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(res.body).toMatch(/posthuman_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/healthz"\}/);
    expect(res.body).toMatch(/posthuman_ledger_balance_microcredits\{kind="issuance"\} -\d+/);
    expect(res.body).toMatch(/posthuman_ledger_transactions\{kind="grant"\} [1-9]/);
  });

  it('GET /metrics refuses anyone without the operator token: no token, an API key, a wrong token', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1 });
    for (const h of [{}, headers, { authorization: `Bearer ${'x'.repeat(40)}` }]) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: h });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).not.toContain('posthuman_ledger');
    }
  });

  it('with METRICS_PORT serves GET /metrics without a token on its own listener, and nothing else there', async () => {
    const ops = await createTestApp({ METRICS_PORT: '0' }, t.testDb);
    try {
      const address = ops.app.metricsAddress();
      expect(address?.address).toBe('127.0.0.1');
      const url = `http://127.0.0.1:${address?.port}`;
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toMatch(/posthuman_ledger_balance_microcredits\{kind="issuance"\} -\d+/);
      const other = await fetch(`${url}/v1/models`);
      expect(other.status).toBe(404);
      expect(other.headers.get('content-type')).toContain('application/problem+json');
      // The API's own /metrics still needs the token.
      expect((await ops.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect(t.app.metricsAddress()).toBeNull();
    } finally {
      await ops.close();
    }
  });
});

describe('problem+json for requests no route handles', () => {
  it('404s an unknown route as problem+json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'not_found', status: 404, title: 'Not found' });
  });

  it('413s a body over the limit and 415s a body that is not JSON', async () => {
    const big = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: { ...t.operatorHeaders, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(t.config.bodyLimitBytes + 10) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('payload_too_large');
    const xml = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: { ...t.operatorHeaders, 'content-type': 'application/xml' },
      payload: '<name>x</name>',
    });
    expect(xml.statusCode).toBe(415);
    const broken = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/accounts',
      headers: { ...t.operatorHeaders, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('invalid_request');
  });
});
