// Starts a worker process: queue consumers that run transformer jobs; shuts down with grace.
// A separate worker needs the gateway's Postgres and Redis, and refuses to start on another database.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { prettyDestination, usePrettyLogs } from './logging/log-output.js';
import { onShutdown } from './process/graceful-shutdown.js';
import { ConfigError, loadConfig } from './config/config.js';
import { openDatabase } from './db/database.js';
import { isTransientInfraError } from './db/infra-errors.js';
import { connectRedis } from './redis/connect-redis.js';
import { setUpWorkerChain } from './ocean/chain-setup.js';
import { createServices } from './services/create-services.js';
import {
  assertSameDeployment,
  DeploymentMismatchError,
  describeDatabaseUrl,
  describeRedisUrl,
  readDeploymentIdentity,
} from './ops/deployment-identity.js';

async function main() {
  const config = loadConfig();
  if (!config.redisUrl) throw new ConfigError('REDIS_URL', 'a separate worker process needs Redis (npm start runs one in-process without it)');
  if (!config.databaseUrl) {
    // An embedded PGlite of its own would hold none of the gateway's jobs: it would take them and lose them.
    throw new ConfigError('DATABASE_URL', "a separate worker process needs the gateway's Postgres (npm start runs one in-process without it)");
  }
  const log = pino(
    { level: config.logLevel, base: { role: 'worker', workerId: config.worker.id } },
    usePrettyLogs(config.logFormat) ? prettyDestination() : undefined,
  );
  const databaseName = describeDatabaseUrl(config.databaseUrl);
  const redisName = `${describeRedisUrl(config.redisUrl)} prefix "${config.redisPrefix}"`;
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.databasePoolMax,
    applicationName: `posthuman-worker:${config.worker.id}`.slice(0, 63),
  });
  const redis = await connectRedis(config.redisUrl);
  // Before migrating anything: is this the database the gateway on this Redis prefix uses?
  await assertSameDeployment(redis, config.redisPrefix, await readDeploymentIdentity(database.db, config.databaseUrl), {
    waitMs: config.worker.gatewayWaitMs,
    onWait: () => log.warn({ redis: redisName }, 'waiting for the gateway to publish its database identity'),
  });
  await database.migrate();
  // Public facts only (addresses): a worker holds no wallet key.
  const chain = await setUpWorkerChain(config);
  if (!chain) log.warn('CHAIN=off: jobs run WITHOUT Ocean orders (development only)');
  const services = await createServices('worker', { config, db: database.db, redis, log, publicChain: chain });
  // Every path this process needs is absolute by now: run from an empty folder, so nothing a model
  // names by a relative path (onnxruntime resolves external data against the working directory)
  // can reach the data dir's keys or other owners' weights, whatever the graph checks miss.
  process.chdir(mkdtempSync(join(tmpdir(), 'posthuman-worker-cwd-')));
  const shutdown = async () => {
    await services.close();
    await redis.quit().catch(() => {});
    await database.close();
  };
  // Errors are handled below: a transient fault must not take the worker down.
  onShutdown({ delayMs: 30_000, stopOnUncaught: false }, async ({ signal }) => {
    log.info({ signal }, 'worker shutting down: finishing active jobs');
    await shutdown();
  });
  let failing = false;
  const onError = (err: unknown) => {
    if (isTransientInfraError(err)) {
      log.warn({ err }, 'transient fault outside a job; carrying on (connections reconnect by themselves)');
      return;
    }
    log.fatal({ err }, 'worker shutting down after an error (the supervisor restarts it)');
    if (failing) process.exit(1);
    failing = true;
    const timer = setTimeout(() => process.exit(1), 30_000);
    timer.unref();
    shutdown().finally(() => process.exit(1));
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  const chainName = chain ? chain.rpcUrl : 'off';
  log.info(
    { concurrency: config.worker.concurrency, threads: config.worker.threads, database: databaseName, redis: redisName, chain: chainName },
    'worker ready',
  );
  process.stdout.write(`Posthuman worker ${config.worker.id} ready (database: ${databaseName}; redis: ${redisName}; chain: ${chainName})\n`);
}

main().catch((err) => {
  const known = err instanceof ConfigError || err instanceof DeploymentMismatchError;
  process.stderr.write(
    err instanceof ConfigError
      ? `configuration error: ${err.message}\n`
      : known
        ? `worker refused to start: ${err.message}\n`
        : `worker failed: ${err?.stack ?? err}\n`,
  );
  process.exit(1);
});
