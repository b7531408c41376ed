// Webhooks in the gateway: the routes, and the sweeper that fans job events out and delivers them
// (every gateway replica runs one; leased rows keep them from sending a delivery twice at once).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhook-dispatcher.js';
import webhookRoutes from './webhook-routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookDispatcher;
  }
}

export default fp(
  async function webhooks(app: FastifyInstance, opts: { documentOnly?: boolean }) {
    const dispatcher = createWebhookDispatcher({ db: app.db, config: app.config.webhooks, log: app.log, receipts: app.jobService });
    app.decorate('webhooks', dispatcher);
    await app.register(webhookRoutes);
    if (opts.documentOnly) return;
    let stop: (() => Promise<void>) | null = null;
    app.addHook('onReady', async () => {
      stop = dispatcher.start();
    });
    app.addHook('onClose', async () => {
      await stop?.();
    });
  },
  { name: 'webhooks', dependencies: ['jobs'] },
);
