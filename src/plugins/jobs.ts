// Wires the job path: queue producer and events in every role; the consumers too when the worker
// runs in this process (the embedded default).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { startConsumers } from '../jobs/job-consumers.js';
import { createMemoryJobEvents, createRedisJobEvents, type JobEvents } from '../jobs/job-events.js';
import { createBullmqQueue, createMemoryQueue, type JobQueue } from '../jobs/job-queue.js';
import { createJobService, type JobService } from '../jobs/job-service.js';
import { createModelRepository, type ModelRepository } from '../models/model-repository.js';
import { getGpt2Tokenizer } from '../runtime/gpt2-tokenizer.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobQueue: JobQueue;
    jobEvents: JobEvents;
    jobService: JobService;
    modelRepository: ModelRepository;
  }
}

export default fp(
  async function jobs(app: FastifyInstance) {
    const { config, redis } = app;
    const onError = (err: unknown) => app.log.error({ err }, 'job handler error');
    const memoryQueue = redis ? null : createMemoryQueue(config.worker.concurrency, onError);
    const queue = redis ? createBullmqQueue(redis, config.redisPrefix) : memoryQueue!;
    const events = redis ? createRedisJobEvents(redis, config.redisPrefix) : createMemoryJobEvents();
    const tokenizer = getGpt2Tokenizer();
    app.decorate('jobQueue', queue);
    app.decorate('jobEvents', events);
    app.decorate('modelRepository', createModelRepository(app.db));
    app.decorate(
      'jobService',
      createJobService({
        db: app.db,
        ledger: app.ledger,
        queue,
        events,
        countTokens: (text) => tokenizer.encode(text).length,
        maxQueueDepth: config.jobs.maxQueueDepth,
        log: app.log,
      }),
    );

    const consumers = config.worker.inProcess
      ? await startConsumers({ config, db: app.db, ledger: app.ledger, events, queue, memoryQueue, log: app.log })
      : null;

    app.addHook('onClose', async () => {
      await consumers?.close();
      await queue.close();
      await events.close();
    });
  },
  { name: 'jobs', dependencies: ['services'] },
);
