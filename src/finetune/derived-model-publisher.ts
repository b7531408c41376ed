// Publishes fine-tuned models on chain from the gateway (workers hold no wallet keys): a worker
// registers the derived model in its settlement; this sweep makes it an Ocean asset, oldest first,
// so a parent trained earlier is on chain before its children name it.
import { and, asc, isNotNull, isNull, ne, or } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { models } from '../models/models-schema.js';
import type { GatewayOcean } from '../ocean/gateway-ocean.js';

export interface DerivedModelPublisher {
  /** Publishes what is pending now; concurrent calls share one run. */
  sweep(): Promise<number>;
  stop(): void;
}

export function startDerivedModelPublisher(deps: { db: Db; ocean: GatewayOcean; log: FastifyBaseLogger; intervalMs?: number }): DerivedModelPublisher {
  let running: Promise<number> | null = null;
  async function publishPending(): Promise<number> {
    const pending = await deps.db
      .select()
      .from(models)
      .where(and(isNotNull(models.parentModelId), or(isNull(models.nftAddress), isNull(models.chainId), ne(models.chainId, deps.ocean.chainId))))
      .orderBy(asc(models.createdAt))
      .limit(20);
    let published = 0;
    for (const model of pending) {
      try {
        const row = await deps.ocean.ensurePublished(deps.db, model);
        published++;
        deps.ocean.warm(row).catch((err) => deps.log.warn({ err, model: model.id }, 'warming the order pool failed'));
      } catch (err) {
        deps.log.warn({ err, model: model.id }, 'publishing a fine-tuned model failed; the next sweep retries');
      }
    }
    return published;
  }
  const sweep = () => {
    running ??= publishPending().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => {
    sweep().catch((err) => deps.log.warn({ err }, 'the derived-model publisher sweep failed'));
  }, deps.intervalMs ?? 2_000);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
