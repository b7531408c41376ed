// Liveness, readiness (Postgres and Redis reachable) and Prometheus metrics (operator only).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, OPERATOR_AUTH_ERRORS } from '../http/schemas.js';

const CheckStatus = Type.Union([Type.Literal('ok'), Type.Literal('down'), Type.Literal('not_configured')]);
const Readiness = Type.Object(
  {
  status: Type.Union([Type.Literal('ready'), Type.Literal('degraded'), Type.Literal('unavailable')], {
    description: '`degraded` (200): reads work, but no separate worker is alive, so new jobs are refused (503 `no_workers`)',
  }),
  checks: Type.Object({
    postgres: CheckStatus,
    redis: CheckStatus,
    workers: Type.Union([Type.Literal('ok'), Type.Literal('none'), Type.Literal('down'), Type.Literal('in_process')]),
  }),
  workers: Type.Object(
    {},
    {
      additionalProperties: Type.Integer({ minimum: 0 }),
      description: 'Separate workers alive (heartbeating) per queue; empty when the worker runs in the gateway process',
    },
  ),
  },
  {
    title: 'Readiness',
    examples: [{ status: 'ready', checks: { postgres: 'ok', redis: 'ok', workers: 'ok' }, workers: { 'jobs-infer': 1 } }],
  },
);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref()),
  ]);
}

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Process is alive',
        description: 'Answers while the process runs, whatever its dependencies do (for a liveness probe; readiness is /readyz).',
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { title: 'Health', examples: [{ status: 'ok' }] }), ...errorResponses([]) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Postgres and Redis are reachable, and how many workers are alive',
        description:
          'Answers 503 with the same body when a dependency is down; 200 `degraded` when no separate worker is alive ' +
          '(job reads still work; new jobs get 503 `no_workers`).',
        response: { 200: Readiness, 503: Readiness, ...errorResponses([]) },
      },
    },
    async (_request, reply) => {
      const probe = (fn: () => Promise<unknown>) =>
        withTimeout(fn(), 2000).then(
          () => 'ok' as const,
          () => 'down' as const,
        );
      const [postgres, redis, alive] = await Promise.all([
        probe(() => app.database.ping()),
        app.redis ? probe(() => app.redis!.ping()) : Promise.resolve('not_configured' as const),
        app.liveWorkers ? withTimeout(app.liveWorkers(), 2000).catch(() => null) : Promise.resolve(undefined),
      ]);
      const workers =
        alive === undefined ? ('in_process' as const) : alive === null ? ('down' as const) : Object.values(alive).some((n) => n > 0) ? ('ok' as const) : ('none' as const);
      const ready = postgres === 'ok' && redis !== 'down';
      const status = !ready ? 'unavailable' : workers === 'none' ? 'degraded' : 'ready';
      return reply.code(ready ? 200 : 503).send({ status, checks: { postgres, redis, workers }, workers: alive ?? {} });
    },
  );

  app.get(
    '/metrics',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Request counts and latency per route, ledger totals and audits. Needs the operator token; with METRICS_PORT ' +
          'set, the same text is also served without a token at GET /metrics on that port.',
        security: [{ operatorToken: [] }],
        response: {
          200: {
            description: 'Prometheus text exposition format',
            content: {
              'text/plain': {
                schema: Type.String(),
                example: '# HELP posthuman_http_requests_total HTTP requests\n# TYPE posthuman_http_requests_total counter\n',
              },
            },
          },
          ...errorResponses(OPERATOR_AUTH_ERRORS),
        },
      },
    },
    async (_request, reply) => {
      const text = await app.metrics.metrics();
      return reply.type(app.metrics.contentType).send(text);
    },
  );
};

export default healthRoutes;
