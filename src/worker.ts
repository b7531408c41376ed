// Starts a worker process: queue consumers that run transformer jobs; shuts down with grace.
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { ConfigError, loadConfig } from './config/config.js';
import { createLedger } from './credits/credit-ledger.js';
import { openDatabase } from './db/database.js';
import { startConsumers } from './jobs/job-consumers.js';
import { createRedisJobEvents } from './jobs/job-events.js';
import { createBullmqQueue } from './jobs/job-queue.js';
import { connectRedis } from './redis/connect-redis.js';
import { setUpChain } from './ocean/chain-setup.js';
import { createJobOrderChecker } from './ocean/job-order-check.js';

async function main() {
  const config = loadConfig();
  if (!config.redisUrl) throw new ConfigError('REDIS_URL', 'a separate worker process needs Redis (npm start runs one in-process without it)');
  const log = pino({ level: config.logLevel, base: { role: 'worker', workerId: config.worker.id } });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.databasePoolMax });
  await database.migrate();
  const redis = await connectRedis(config.redisUrl);
  const queue = createBullmqQueue(redis, config.redisPrefix);
  const events = createRedisJobEvents(redis, config.redisPrefix);
  const chain = await setUpChain(config, 'worker');
  const orders = chain ? createJobOrderChecker(chain.config) : null;
  if (!chain) log.warn('CHAIN=off: jobs run WITHOUT Ocean orders (development only)');
  const consumers = await startConsumers({
    config,
    db: database.db,
    ledger: createLedger({ db: database.db }),
    events,
    queue,
    memoryQueue: null,
    log,
    orders,
  });
  closeWithGrace({ delay: 30_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'worker shutting down after an error');
    else log.info({ signal }, 'worker shutting down: finishing active jobs');
    await consumers.close();
    orders?.close();
    await queue.close();
    await events.close();
    await redis.quit().catch(() => {});
    await database.close();
  });
  log.info({ concurrency: config.worker.concurrency, threads: config.worker.threads, chain: chain?.mode ?? 'off' }, 'worker ready');
  process.stdout.write(`Posthuman worker ${config.worker.id} ready (chain: ${chain ? chain.config.rpcUrl : 'off'})\n`);
}

main().catch((err) => {
  process.stderr.write(err instanceof ConfigError ? `configuration error: ${err.message}\n` : `worker failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
