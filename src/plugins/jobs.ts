// Wires the job path: queue producer and events in every role; the consumers too when the worker
// runs in this process (the embedded default).
import type { FastifyInstance } from 'fastify';
import { startDerivedModelPublisher } from '../finetune/derived-model-publisher.js';
import fp from 'fastify-plugin';
import { createJobService, type JobService } from '../jobs/job-service.js';
import { createModelRepository, type ModelRepository } from '../models/model-repository.js';
import { getGpt2Tokenizer } from '../runtime/gpt2-tokenizer.js';
import type { ChainSetup } from '../ocean/chain-setup.js';
import type { GatewayOcean } from '../ocean/gateway-ocean.js';
import type { JobEvents } from '../jobs/job-events.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { createServices } from '../services/create-services.js';
import { startOceanNodeJobs } from '../ocean/ocean-node-jobs.js';
import { Gauge } from 'prom-client';
import { countLiveWorkers, isWorkerAlive } from '../jobs/worker-heartbeat.js';
import { publishDeploymentIdentity, readDeploymentIdentity } from '../ops/deployment-identity.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobQueue: JobQueue;
    jobEvents: JobEvents;
    jobService: JobService;
    modelRepository: ModelRepository;
    /** Publishing and ordering on chain; null with CHAIN=off. */
    ocean: GatewayOcean | null;
    /** Live separate workers per queue name; null when the worker runs in this process. */
    liveWorkers: (() => Promise<Record<string, number>>) | null;
  }
}

export interface JobsOptions {
  chain: ChainSetup | null;
}

export default fp(
  async function jobs(app: FastifyInstance, opts: JobsOptions) {
    const { config, redis } = app;
    const tokenizer = getGpt2Tokenizer();
    // The same wiring a worker process uses; here the consumers run only in the embedded default.
    const services = await createServices('gateway', { config, db: app.db, redis, log: app.log, ledger: app.ledger, chain: opts.chain });
    const { queue, events, ocean } = services;
    app.decorate('ocean', ocean);
    // Separate workers: they find this deployment's database identity here, and heartbeat back.
    const liveWorkers = redis && !config.worker.inProcess ? () => countLiveWorkers(redis, config.redisPrefix) : null;
    app.decorate('liveWorkers', liveWorkers);
    if (redis && !config.worker.inProcess) {
      const identity = await readDeploymentIdentity(app.db, config.databaseUrl);
      const publish = () =>
        publishDeploymentIdentity(redis, config.redisPrefix, identity).catch((err) =>
          app.log.warn({ err }, 'publishing the deployment identity failed; retried when Redis is back'),
        );
      await publish();
      // Redis restarted empty: publish again, so workers (re)starting now can check it.
      redis.on('ready', publish);
      app.addHook('onClose', async () => {
        redis.off('ready', publish);
      });
    }
    new Gauge({
      name: 'posthuman_workers_alive',
      help: 'Separate workers heartbeating, per queue (absent when the worker runs in the gateway process)',
      labelNames: ['queue'],
      registers: [app.metrics],
      async collect() {
        this.reset();
        if (!liveWorkers) return;
        const counts = await liveWorkers().catch(() => null);
        for (const [queue, n] of Object.entries(counts ?? {})) this.set({ queue }, n);
      },
    });
    app.decorate('jobQueue', queue);
    app.decorate('jobEvents', events);
    app.decorate('modelRepository', createModelRepository(app.db));
    // Jobs of models served by an Ocean compute node run from here: this process holds the consumer wallet.
    const oceanNodeJobs = await startOceanNodeJobs({ config, db: app.db, ledger: app.ledger, events, log: app.log, redis, ocean, chain: opts.chain });
    app.decorate(
      'jobService',
      createJobService({
        db: app.db,
        ledger: app.ledger,
        queue,
        events,
        countTokens: (text, limit) => tokenizer.countTokens(text, limit),
        maxQueueDepth: config.jobs.maxQueueDepth,
        log: app.log,
        ocean,
        liveWorkers,
        isWorkerAlive: redis && !config.worker.inProcess ? (id) => isWorkerAlive(redis, config.redisPrefix, id) : null,
        // The receipts plugin (registered after this one) drains the outbox; bound when first used.
        receipts: { drainJob: async (id, known) => (app.hasDecorator('receiptOutbox') ? app.receiptOutbox?.drainJob(id, known) : undefined) },
        oceanNodeJobs,
      }),
    );

    // Jobs committed but not yet ordered (a crash between commit and order) are ordered here.
    const dispatcher = ocean
      ? setInterval(() => {
          app.jobService.dispatchPending(10_000).catch((err) => app.log.warn({ err }, 'dispatching unordered jobs failed'));
        }, 10_000).unref()
      : null;

    // Fine-tuned models are registered by workers and published on chain here.
    const derivedPublisher = ocean ? startDerivedModelPublisher({ db: app.db, ocean, log: app.log }) : null;

    app.addHook('onClose', async () => {
      derivedPublisher?.stop();
      if (dispatcher) clearInterval(dispatcher);
      await oceanNodeJobs?.close();
      await services.close();
    });
  },
  { name: 'jobs', dependencies: ['services', 'metrics'] },
);
