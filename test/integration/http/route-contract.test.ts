// Walks every registered route: each must declare the contract the OpenAPI document is built from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../../src/errors/error-catalog.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

type Schema = {
  hide?: boolean;
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: unknown[];
  body?: unknown;
  params?: unknown;
  response?: Record<string, unknown>;
};

describe('route contract', () => {
  const publicRoutes = () =>
    t.app.routeCatalog.filter((r) => !(r.schema as Schema | undefined)?.hide && r.method !== 'HEAD' && !r.url.startsWith('/docs'));

  it('finds the routes (the walk is not empty)', () => {
    expect(publicRoutes().length).toBeGreaterThanOrEqual(10);
  });

  it('every route declares operationId, tags, summary and success and error responses', () => {
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const route of publicRoutes()) {
      const name = `${route.method} ${route.url}`;
      const schema = (route.schema ?? {}) as Schema;
      if (!schema.operationId) problems.push(`${name}: no operationId`);
      else if (ids.has(schema.operationId)) problems.push(`${name}: duplicate operationId ${schema.operationId}`);
      else ids.add(schema.operationId);
      if (!schema.tags?.length) problems.push(`${name}: no tags`);
      if (!schema.summary) problems.push(`${name}: no summary`);
      const statuses = Object.keys(schema.response ?? {});
      if (!statuses.some((s) => s.startsWith('2'))) problems.push(`${name}: no success response`);
      for (const required of ['400', '500']) if (!statuses.includes(required)) problems.push(`${name}: no ${required}`);
      const auth = route.config?.auth ?? 'none';
      if (auth !== 'none') {
        if (!statuses.includes('401')) problems.push(`${name}: authenticated but no 401`);
        if (!schema.security?.length) problems.push(`${name}: authenticated but no security requirement`);
      }
      if (auth === 'key' && !statuses.includes('429')) problems.push(`${name}: rate-limited key route without 429`);
      if (route.config?.scope && !statuses.includes('403')) problems.push(`${name}: scoped but no 403`);
      if (/:\w+/.test(route.url) && !schema.params) problems.push(`${name}: path parameters without a schema`);
      if (['POST', 'PUT', 'PATCH'].includes(String(route.method))) {
        if (!schema.body) problems.push(`${name}: no body schema`);
        for (const s of ['413', '415']) if (!statuses.includes(s)) problems.push(`${name}: takes a body but no ${s}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents only error statuses the error handler can produce', () => {
    const doc = t.app.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const catalog = new Set<number>(Object.values(ERROR_CATALOG).map((e) => e.status));
    const unknown: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const status of Object.keys(op.responses).map(Number)) {
          if (status >= 400 && !catalog.has(status)) unknown.push(`${method} ${path} ${status}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('documents the bearer security schemes', () => {
    const doc = t.app.swagger() as unknown as { openapi: string; components: { securitySchemes: Record<string, { scheme: string }> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.apiKey.scheme).toBe('bearer');
    expect(doc.components.securitySchemes.operatorToken.scheme).toBe('bearer');
  });

  it('serves Swagger UI at /docs and the document at /openapi.json', async () => {
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
    const doc = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.json().info.title).toBe('Posthuman Gateway');
  });
});
