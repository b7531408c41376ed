// Builds the Fastify application from plugins; listening and shutdown live in server.ts.
import { prettyDestination, usePrettyLogs } from './logging/log-output.js';
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions, LogController, type RouteOptions } from 'fastify';
import type { Redis } from 'ioredis';
import accountRoutes from './accounts/account-routes.js';
import adminRoutes from './accounts/admin-routes.js';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import type { ChainSetup } from './ocean/chain-setup.js';
import errorHandler from './errors/error-handler.js';
import { frameworkErrorOptions } from './errors/framework-errors.js';
import requestTextGuard from './http/request-text-guard.js';
import { createValidatorCompiler } from './http/validator-compiler.js';
import jobRoutes from './jobs/job-routes.js';
import openaiRoutes from './openai/openai-routes.js';
import webhooks from './webhooks/webhooks-plugin.js';
import modelRoutes from './models/model-routes.js';
import datasetRoutes from './datasets/dataset-routes.js';
import healthRoutes from './ops/health-routes.js';
import jobs from './plugins/jobs.js';
import receipts from './plugins/receipts.js';
import receiptRoutes from './receipts/receipt-routes.js';
import verifyRoutes from './receipts/verify-routes.js';
import auditRoutes from './audits/audit-routes.js';
import auth from './plugins/auth.js';
import metrics from './plugins/metrics.js';
import responseContract from './plugins/response-contract.js';
import services from './plugins/services.js';
import swagger from './plugins/swagger.js';
import wallet from './wallet/wallet-plugin.js';
import walletRoutes from './wallet/wallet-routes.js';
import webApp from './plugins/web-app.js';

declare module 'fastify' {
  interface FastifyInstance {
    routeCatalog: RouteOptions[];
  }
}

export interface AppDependencies {
  config: Config;
  database: Database;
  redis: Redis | null;
  operatorToken: string;
  /** The chain jobs are ordered on; null runs jobs without orders (CHAIN=off). */
  chain?: ChainSetup | null;
  logger?: FastifyServerOptions['logger'];
  /** Build only to describe the API (the OpenAPI writer): no keys are loaded, nothing is signed. */
  documentOnly?: boolean;
  /** Record responses whose status the route does not declare (tests turn this on). */
  checkResponseContract?: boolean;
}

export async function buildApp(deps: AppDependencies) {
  const app = Fastify({
    logger: deps.logger ?? {
      level: deps.config.logLevel,
      redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.key', 'key'], censor: '[redacted]' },
      ...(usePrettyLogs(deps.config.logFormat) ? { stream: prettyDestination() } : {}),
    },
    // One line per request, written when it completes (see below), instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    ...frameworkErrorOptions(),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler());

  // Every route, as registered; the route-contract test walks this list.
  const routeCatalog: RouteOptions[] = [];
  app.decorate('routeCatalog', routeCatalog);
  app.addHook('onRoute', (route) => {
    routeCatalog.push(route as RouteOptions);
  });

  // While shutting down, answers to requests still in flight close their connection: otherwise an
  // idle keep-alive socket would hold the server open until its timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('X-Request-Id', String(request.id));
    if (closing) reply.header('Connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { req: { method: request.method, url: request.url }, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
  });

  await app.register(services, { config: deps.config, database: deps.database, redis: deps.redis });
  await app.register(errorHandler);
  await app.register(requestTextGuard);
  await app.register(metrics);
  await app.register(auth, { operatorToken: deps.operatorToken });
  await app.register(jobs, { chain: deps.chain ?? null });
  await app.register(wallet, { chain: deps.chain ?? null, documentOnly: deps.documentOnly });
  await app.register(receipts, { documentOnly: deps.documentOnly });
  if (deps.checkResponseContract) await app.register(responseContract);
  await app.register(swagger);

  await app.register(healthRoutes);
  await app.register(adminRoutes);
  await app.register(accountRoutes);
  await app.register(modelRoutes);
  await app.register(datasetRoutes);
  await app.register(jobRoutes);
  await app.register(receiptRoutes);
  await app.register(verifyRoutes);
  await app.register(import('./receipts/marketplace-document-routes.js'));
  await app.register(auditRoutes);
  await app.register(walletRoutes);
  await app.register(openaiRoutes, { prefix: '/openai/v1' });
  await app.register(webhooks, { documentOnly: deps.documentOnly });
  await app.register(webApp, { chain: deps.chain ?? null });
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
