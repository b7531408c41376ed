// Starts the HTTP gateway: loads config, opens and migrates the database, listens, shuts down with grace.
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { resolveOperatorToken } from './config/operator-token.js';
import { openDatabase } from './db/database.js';
import { ensureDefaultModel } from './models/model-registration.js';
import { connectRedis } from './redis/connect-redis.js';
import type { App } from './app.js';
import { setUpChain } from './ocean/chain-setup.js';
import { onShutdown } from './process/graceful-shutdown.js';

/** Publishes every registry model that is not an asset on the current chain, and warms its order pool. */
async function publishRegistry(app: App): Promise<number> {
  if (!app.ocean) return 0;
  const models = await app.modelRepository.list();
  for (const model of models) {
    const published = await app.ocean.ensurePublished(app.db, model);
    app.ocean.warm(published).catch((err) => app.log.warn({ err, model: model.id }, 'warming the order pool failed'));
  }
  return models.length;
}

/** The start banner, set apart from the log lines around it (bold on a terminal). */
function banner(lines: string[], tty: boolean): string {
  const rule = '─'.repeat(Math.min(100, Math.max(...lines.map((l) => l.length))));
  const [title, ...rest] = lines;
  return `\n${rule}\n${tty ? `\x1b[1m${title}\x1b[0m` : title}\n${rest.join('\n')}\n${rule}\n\n`;
}

async function main() {
  const config = loadConfig();
  const operator = resolveOperatorToken(config.operatorToken, config.dataDir);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.databasePoolMax,
  });
  await database.migrate();
  const model = await ensureDefaultModel(database.db, config.dataDir);
  const redis = config.redisUrl ? await connectRedis(config.redisUrl) : null;
  const chain = await setUpChain(config, 'gateway');
  const app = await buildApp({ config, database, redis, operatorToken: operator.token, chain });
  const published = await publishRegistry(app);

  onShutdown({ delayMs: 15_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down: draining in-flight requests');
    await app.close();
    await chain?.stop();
    await redis?.quit().catch(() => {});
    await database.close();
    process.stdout.write('Posthuman Gateway stopped\n');
  });

  const address = await app.listen({ port: config.port, host: config.host });
  const base = config.publicBaseUrl ?? address;
  const lines = [
    `Posthuman Gateway listening on ${base}`,
    `  API docs:   ${base}/docs   (OpenAPI: ${base}/openapi.json)`,
    `  database:   ${database.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}/pgdata` : 'Postgres (DATABASE_URL)'}`,
    `  redis:      ${redis ? 'REDIS_URL' : 'none (in-process queue)'}`,
    `  worker:     ${config.worker.inProcess ? 'in this process' : 'separate (npm run worker)'}`,
    `  model:      ${model.id} (weights sha256 ${model.weightsSha256})`,
    chain
      ? `  chain:      CHAIN_RPC_URL=${chain.config.rpcUrl} (${chain.mode}, chain id ${chain.config.chainId}); ${published} model(s) published as Ocean assets`
      : '  chain:      off (CHAIN=off): jobs run WITHOUT Ocean orders',
  ];
  if (operator.source === 'generated') {
    lines.push(`  operator token (generated, shown once; stored in ${operator.path}):`, `    ${operator.token}`);
  } else if (operator.source === 'file') {
    lines.push(`  operator token: in ${operator.path}`);
  } else {
    lines.push('  operator token: POSTHUMAN_OPERATOR_TOKEN');
  }
  process.stdout.write(banner(lines, process.stdout.isTTY === true));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`configuration error: ${err.message}\n`);
  } else {
    process.stderr.write(`failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
