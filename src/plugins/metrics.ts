// Prometheus metrics: request count and latency per route, and ledger totals read at scrape time.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { sql } from 'drizzle-orm';
import { ledgerBooks, ledgerTransactions } from '../credits/ledger-schema.js';
import { audits } from '../audits/audits-schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
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

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      requests.inc({ method: request.method, route, status: String(reply.statusCode) });
      latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
  },
  { name: 'metrics', dependencies: ['services'] },
);
