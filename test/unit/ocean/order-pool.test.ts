import { describe, expect, it } from 'vitest';
import { OceanError } from '../../../src/ocean/ocean-error.js';
import { type OrderPoolStore, type StoredOrder, createOrderPool } from '../../../src/ocean/order-pool.js';
import type { OrderTarget, PlacedOrder } from '../../../src/ocean/order-service.js';

const target: OrderTarget = { datatokenAddress: '0x00000000000000000000000000000000000000d7', serviceId: 's', serviceIndex: 0 };

/** A fake order service: each call yields a new order with a unique hash, valid for `validFor` s. */
function fakeOrders(opts: { validFor?: number; fail?: () => boolean; clock?: () => number } = {}) {
  let n = 0;
  const calls: number[] = [];
  return {
    calls,
    placeOrder: async (t: OrderTarget): Promise<PlacedOrder> => {
      calls.push(++n);
      if (opts.fail?.()) throw new OceanError('rpc_unavailable', 'down');
      const at = opts.clock?.() ?? 1_000;
      return {
        txHash: `0x${n.toString(16).padStart(64, '0')}`,
        blockNumber: n,
        orderedAt: at,
        kind: 'start',
        validUntil: at + (opts.validFor ?? 3600),
        datatokenAddress: t.datatokenAddress,
        serviceIndex: t.serviceIndex,
        consumer: '0x0000000000000000000000000000000000000001',
      };
    },
  };
}

describe('order pool', () => {
  it('places on demand when empty, then refills in the background up to the target', async () => {
    const orders = fakeOrders();
    const pool = createOrderPool({ orders, targetSize: 3, now: () => 1_000 });
    const first = await pool.acquire(target);
    expect(first.fromPool).toBe(false);
    await pool.warm(target, 3, 5_000);
    expect(pool.size(target)).toBe(3);
    const second = await pool.acquire(target);
    expect(second.fromPool).toBe(true);
    expect(second.order.txHash).not.toBe(first.order.txHash);
    await pool.close();
  });

  it('hands each order to one job by default, and to N jobs when the policy says N', async () => {
    const single = createOrderPool({ orders: fakeOrders(), targetSize: 1, now: () => 1_000 });
    await single.warm(target, 1, 5_000);
    const a = await single.acquire(target);
    const b = await single.acquire(target);
    expect(a.order.txHash).not.toBe(b.order.txHash);
    await single.close();

    const shared = createOrderPool({ orders: fakeOrders(), targetSize: 1, maxUsesPerOrder: 2, now: () => 1_000 });
    await shared.warm(target, 1, 5_000);
    const c = await shared.acquire(target);
    const d = await shared.acquire(target);
    expect([c.use, d.use]).toEqual([1, 2]);
    expect(d.order.txHash).toBe(c.order.txHash);
    await shared.close();
  });

  it('never hands out an order close to the end of its validity', async () => {
    let clock = 1_000;
    const orders = fakeOrders({ validFor: 300, clock: () => clock });
    const pool = createOrderPool({ orders, targetSize: 2, minRemainingSeconds: 120, now: () => clock });
    await pool.warm(target, 2, 5_000);
    const stale = new Set((await Promise.all([pool.acquire(target)])).map((p) => p.order.txHash));
    clock += 200; // 100 s left < 120 s minimum
    const next = await pool.acquire(target);
    expect(next.order.orderedAt).toBe(1_200);
    expect(stale.has(next.order.txHash)).toBe(false);
    await pool.close();
  });

  it('reports background failures without throwing, and placing on demand still surfaces them', async () => {
    const errors: string[] = [];
    const orders = fakeOrders({ fail: () => true });
    const pool = createOrderPool({ orders, targetSize: 2, onRefillError: (e) => errors.push(e.code) });
    await expect(pool.acquire(target)).rejects.toMatchObject({ code: 'rpc_unavailable' });
    await expect.poll(() => errors.length, { timeout: 2_000 }).toBeGreaterThan(0);
    expect(errors.every((c) => c === 'rpc_unavailable')).toBe(true);
    await pool.close();
  });

  it('refuses work once closed', async () => {
    const pool = createOrderPool({ orders: fakeOrders(), targetSize: 1 });
    await pool.close();
    await expect(pool.acquire(target)).rejects.toMatchObject({ code: 'pool_closed' });
  });

  it('records each order placed ahead, and a new pool on the same store hands the unused ones out first', async () => {
    const rows = new Map<string, StoredOrder>();
    const usedByJobs = new Set<string>();
    const store: OrderPoolStore = {
      save: async (entry) => {
        rows.set(entry.order.txHash, entry);
      },
      load: async (validAfter) =>
        [...rows.values()].filter((r) => !usedByJobs.has(r.order.txHash) && r.order.validUntil >= validAfter),
      prune: async () => {},
    };
    const first = createOrderPool({ orders: fakeOrders(), targetSize: 3, store, now: () => 1_000 });
    await first.warm(target, 3, 5_000);
    expect(rows.size).toBe(3);
    const used = await first.acquire(target);
    usedByJobs.add(used.order.txHash); // the job carries it
    await first.close();

    const placedAgain = fakeOrders();
    const second = createOrderPool({ orders: { placeOrder: (t) => placedAgain.placeOrder(t).then((o) => ({ ...o, txHash: `${o.txHash.slice(0, -4)}beef` })) }, targetSize: 3, store, now: () => 1_000 });
    const unused = [...rows.keys()].filter((h) => !usedByJobs.has(h));
    expect(unused.length).toBeGreaterThanOrEqual(2);
    const again = [await second.acquire(target), await second.acquire(target)];
    expect(again.map((p) => p.fromPool)).toEqual([true, true]);
    expect(again.map((p) => p.order.txHash)).toEqual(unused.slice(0, 2));
    expect(again.map((p) => p.order.txHash)).not.toContain(used.order.txHash);
    await second.close();
  });

  it('goes on from memory when the store fails, reporting it', async () => {
    const failures: unknown[] = [];
    const broken: OrderPoolStore = {
      save: async () => {
        throw new Error('database down');
      },
      load: async () => {
        throw new Error('database down');
      },
      prune: async () => {},
    };
    const pool = createOrderPool({ orders: fakeOrders(), targetSize: 1, store: broken, onStoreError: (e) => failures.push(e), now: () => 1_000 });
    await pool.warm(target, 1, 5_000);
    expect((await pool.acquire(target)).fromPool).toBe(true);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    await pool.close();
  });
});
