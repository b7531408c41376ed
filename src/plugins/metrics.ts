// Prometheus metrics: request count and latency per route, and ledger totals read at scrape time.
// They show business totals, so GET /metrics needs the operator token; with METRICS_PORT set they
// are also served without one on a listener of their own (for a scraper on a private network).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { sql } from 'drizzle-orm';
import { ledgerBooks, ledgerTransactions } from '../credits/ledger-schema.js';
import { audits } from '../audits/audits-schema.js';
import { AppError } from '../errors/app-error.js';
import { problemBody } from '../errors/error-handler.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
    /** The METRICS_PORT listener's address once it listens; null without METRICS_PORT. */
    metricsAddress(): AddressInfo | null;
  }
}

export default fp(
  async function metrics(app: FastifyInstance) {
    // One registry per app, so several apps in one process (tests) never share counters.
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'posthuman_' });
    const requests = new Counter({
      name: 'posthuman_http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    const latency = new Histogram({
      name: 'posthuman_http_request_duration_seconds',
      help: 'HTTP request latency by route and method',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    new Gauge({
      name: 'posthuman_ledger_balance_microcredits',
      help: 'Sum of ledger book balances by book kind (issuance is negative: credit granted)',
      labelNames: ['kind'],
      registers: [registry],
      async collect() {
        const rows = await app.db
          .select({ kind: ledgerBooks.kind, total: sql<string>`COALESCE(SUM(${ledgerBooks.balance}), 0)::text` })
          .from(ledgerBooks)
          .groupBy(ledgerBooks.kind);
        this.reset();
        for (const r of rows) this.set({ kind: r.kind }, Number(r.total));
      },
    });
    new Gauge({
      name: 'posthuman_ledger_transactions',
      help: 'Ledger transactions posted, by kind',
      labelNames: ['kind'],
      registers: [registry],
      async collect() {
        const rows = await app.db
          .select({ kind: ledgerTransactions.kind, n: sql<number>`COUNT(*)::int` })
          .from(ledgerTransactions)
          .groupBy(ledgerTransactions.kind);
        this.reset();
        for (const r of rows) this.set({ kind: r.kind }, r.n);
      },
    });
    new Gauge({
      name: 'posthuman_audits',
      help: 'Replay audits by status (a mismatch means a worker served output its registered weights do not reproduce)',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const rows = await app.db
          .select({ status: audits.status, n: sql<number>`COUNT(*)::int` })
          .from(audits)
          .groupBy(audits.status);
        this.reset();
        for (const r of rows) this.set({ status: r.status }, r.n);
      },
    });
    app.decorate('metrics', registry);

    let server: Server | null = null;
    app.decorate('metricsAddress', () => (server?.address() as AddressInfo | null) ?? null);
    const port = app.config.metricsPort;
    if (port !== undefined) {
      // Started when the app is ready (not on listen), so a port in use stops the start.
      app.addHook('onReady', async () => {
        server = createMetricsServer(registry, (err) => app.log.error({ err }, 'metrics scrape failed'));
        const listening = server;
        await new Promise<void>((resolve, reject) => {
          listening.once('error', reject);
          listening.listen(port, app.config.host, () => {
            listening.off('error', reject);
            resolve();
          });
        });
      });
      app.addHook('onClose', async () => {
        const listening = server;
        if (!listening) return;
        const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
        listening.closeAllConnections(); // a scraper's keep-alive socket must not hold the close
        await closed;
      });
    }

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  },
  { name: 'metrics', dependencies: ['services'] },
);

/** GET /metrics and nothing else; the port carries no API, so it needs no token. */
function createMetricsServer(registry: Registry, onError: (err: unknown) => void): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      const status = 404;
      res.writeHead(status, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify(problemBody(new AppError('not_found', 'this port serves only GET /metrics'), randomUUID())));
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err) => {
        onError(err);
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('metrics unavailable\n');
      },
    );
  });
}
