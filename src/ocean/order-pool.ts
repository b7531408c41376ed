// Keeps orders placed ahead per datatoken so a job rarely waits on the chain. Policy: one order per
// job by default (`maxUsesPerOrder: 1`), so each job has its own on-chain payment a verifier can
// match to a receipt; orders too close to the end of their validity are dropped, never handed out.
// With a store, every order placed ahead is recorded once confirmed, and the unused ones recorded by
// an earlier run are handed out first, so a restart loses no paid order.
import type { OrderService, OrderTarget, PlacedOrder } from './order-service.js';
import { OceanError } from './ocean-error.js';
import { toOceanError } from './rpc-errors.js';

export interface PooledOrder {
  order: PlacedOrder;
  /** 1 for the first job on this order. */
  use: number;
  /** True when it came from the pool, false when placed on demand. */
  fromPool: boolean;
}

export interface StoredOrder {
  target: OrderTarget;
  order: PlacedOrder;
}

/** Where orders placed ahead outlive the process (order-pool-store.ts: Postgres). */
export interface OrderPoolStore {
  save(entry: StoredOrder): Promise<void>;
  /** Orders no job carries yet, valid after `validAfter` (unix seconds); used and expired ones are pruned. */
  load(validAfter: number): Promise<StoredOrder[]>;
  prune(validAfter: number): Promise<void>;
}

export interface OrderPoolOptions {
  orders: Pick<OrderService, 'placeOrder'>;
  /** Orders kept ready per datatoken. Default 4. */
  targetSize?: number;
  /** Jobs per order. Default 1. */
  maxUsesPerOrder?: number;
  /** Background placements in flight per datatoken. Default 2. */
  refillConcurrency?: number;
  /** An order with less validity left than this is dropped. Default 120 s. */
  minRemainingSeconds?: number;
  /** Clock in unix seconds; injectable for tests. */
  now?: () => number;
  /** Background refill failures (they are retried with backoff, never thrown). */
  onRefillError?: (err: OceanError, target: OrderTarget) => void;
  /** Persists orders placed ahead; absent = memory only. */
  store?: OrderPoolStore;
  /** A store read or write that failed (the pool goes on from memory). */
  onStoreError?: (err: unknown) => void;
}

interface Slot {
  order: PlacedOrder;
  uses: number;
}

interface Bucket {
  target: OrderTarget;
  ready: Slot[];
  inFlight: number;
  failures: number;
  retryTimer?: NodeJS.Timeout;
  waiters: Array<() => void>;
}

export function createOrderPool(options: OrderPoolOptions) {
  const targetSize = options.targetSize ?? 4;
  const maxUses = options.maxUsesPerOrder ?? 1;
  const concurrency = options.refillConcurrency ?? 2;
  const minRemaining = options.minRemainingSeconds ?? 120;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const buckets = new Map<string, Bucket>();
  const running = new Set<Promise<void>>();
  const store = options.store;
  const storeFailed = (err: unknown) => options.onStoreError?.(err);
  let closed = false;
  let lastPrune = 0;

  const keyOf = (t: OrderTarget) => `${t.datatokenAddress.toLowerCase()}#${t.serviceIndex}`;

  function bucketFor(target: OrderTarget): Bucket {
    const key = keyOf(target);
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { target, ready: [], inFlight: 0, failures: 0, waiters: [] };
      buckets.set(key, bucket);
    }
    return bucket;
  }

  function dropStale(bucket: Bucket) {
    const limit = now() + minRemaining;
    bucket.ready = bucket.ready.filter((slot) => slot.order.validUntil >= limit);
  }

  function notify(bucket: Bucket) {
    for (const wake of bucket.waiters.splice(0)) wake();
  }

  // Orders an earlier run paid for and no job used: ready before anything new is placed.
  const restored: Promise<void> = store
    ? store
        .load(now() + minRemaining)
        .then((entries) => {
          for (const { target, order } of entries) bucketFor(target).ready.push({ order, uses: 0 });
        })
        .catch(storeFailed)
    : Promise.resolve();

  /** Records a confirmed order; now and then drops the rows of orders used or expired since. */
  async function remember(target: OrderTarget, order: PlacedOrder) {
    if (!store) return;
    await store.save({ target, order }).catch(storeFailed);
    if (now() - lastPrune >= 60) {
      lastPrune = now();
      await store.prune(now()).catch(storeFailed);
    }
  }

  function refill(bucket: Bucket) {
    if (closed || bucket.retryTimer) return;
    while (bucket.ready.length + bucket.inFlight < targetSize && bucket.inFlight < concurrency) {
      bucket.inFlight++;
      const job = options.orders
        .placeOrder(bucket.target)
        .then(async (order) => {
          bucket.failures = 0;
          // Recorded before it is handed out: an order in use is always one the store knows.
          await remember(bucket.target, order);
          bucket.ready.push({ order, uses: 0 });
        })
        .catch((err) => {
          bucket.failures++;
          const failure = toOceanError(err, 'order pool refill');
          // Orders for a datatoken the chain no longer has are worthless: never hand them out.
          if (failure.code === 'model_not_on_chain') bucket.ready = [];
          options.onRefillError?.(failure, bucket.target);
          // Back off before the next background try: the chain is likely down.
          const wait = Math.min(30_000, 500 * 2 ** Math.min(bucket.failures, 6));
          bucket.retryTimer = setTimeout(() => {
            bucket.retryTimer = undefined;
            refill(bucket);
          }, wait);
          bucket.retryTimer.unref();
        })
        .finally(() => {
          bucket.inFlight--;
          running.delete(job);
          notify(bucket);
          refill(bucket);
        });
      running.add(job);
    }
  }

  function take(bucket: Bucket): PooledOrder | undefined {
    dropStale(bucket);
    const slot = bucket.ready[0];
    if (!slot) return undefined;
    slot.uses++;
    if (slot.uses >= maxUses) bucket.ready.shift();
    return { order: slot.order, use: slot.uses, fromPool: true };
  }

  return {
    /** An order for one job: from the pool when one is ready, else placed now (the caller waits). */
    async acquire(target: OrderTarget): Promise<PooledOrder> {
      if (closed) throw new OceanError('pool_closed', 'order pool is closed');
      await restored;
      const bucket = bucketFor(target);
      const pooled = take(bucket);
      // Refill after handing out: signing and sending must not delay this caller.
      setImmediate(() => refill(bucket));
      if (pooled) return pooled;
      const order = await options.orders.placeOrder(target).catch((err) => {
        if (toOceanError(err, 'order').code === 'model_not_on_chain') bucket.ready = [];
        throw err;
      });
      if (maxUses > 1) bucket.ready.unshift({ order, uses: 1 });
      return { order, use: 1, fromPool: false };
    },

    /** Starts filling the pool for a datatoken and resolves once it holds `count` ready orders. */
    async warm(target: OrderTarget, count = targetSize, timeoutMs = 120_000): Promise<void> {
      await restored;
      const bucket = bucketFor(target);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (closed) throw new OceanError('pool_closed', 'order pool is closed');
        dropStale(bucket);
        if (bucket.ready.length >= Math.min(count, targetSize)) return;
        refill(bucket);
        const left = deadline - Date.now();
        if (left <= 0) throw new OceanError('tx_timeout', `order pool not warm after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 1_000));
          bucket.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },

    /** Ready orders for a datatoken (after dropping stale ones). */
    size(target: OrderTarget): number {
      const bucket = buckets.get(keyOf(target));
      if (!bucket) return 0;
      dropStale(bucket);
      return bucket.ready.length;
    },

    /** Stops refilling and waits for placements in flight; ready orders are kept unused. */
    async close(): Promise<void> {
      closed = true;
      await restored;
      for (const bucket of buckets.values()) {
        if (bucket.retryTimer) clearTimeout(bucket.retryTimer);
        notify(bucket);
      }
      await Promise.allSettled([...running]);
    },
  };
}

export type OrderPool = ReturnType<typeof createOrderPool>;
