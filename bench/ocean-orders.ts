// Benchmark: Ocean orders from one wallet on the in-process chain. Prints numbers, never fails on time.
// Run: npx tsx bench/ocean-orders.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedOcean } from '../src/ocean/embedded-ocean.js';
import { type OceanClient, createOceanClient } from '../src/ocean/ocean-client.js';
import { createOrderPool } from '../src/ocean/order-pool.js';
import type { OrderTarget } from '../src/ocean/order-service.js';

const RUNTIME = { did: 'did:op:bench-runtime', filesChecksum: '1'.repeat(64), containerSectionChecksum: '2'.repeat(64) };
const rows: Array<Record<string, string>> = [];

async function withChain<T>(intervalMiningMs: number, run: (client: OceanClient, target: OrderTarget) => Promise<T>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'posthuman-bench-'));
  const ocean = await startEmbeddedOcean({ dataDir, port: 0, intervalMiningMs });
  const client = createOceanClient(ocean.config, { wait: { pollMs: 100 } });
  try {
    const model = await client.models.publishModel({ name: 'Bench GPT', weightsSha256: 'f'.repeat(64), pricing: { type: 'free' }, serviceTimeout: 3600, trustedAlgorithm: RUNTIME });
    return await run(client, { datatokenAddress: model.datatokenAddress, serviceId: model.serviceId, serviceIndex: 0 });
  } finally {
    client.close();
    await ocean.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function throughput(client: OceanClient, target: OrderTarget, concurrency: number, total: number) {
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        await client.orders.placeOrder(target);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { ordersPerSecond: total / seconds, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) };
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function record(mining: string, what: string, values: { ordersPerSecond?: number; p50: number; p95: number }, n: number) {
  rows.push({
    mining,
    measure: what,
    n: String(n),
    'orders/s': values.ordersPerSecond === undefined ? '-' : values.ordersPerSecond.toFixed(1),
    'p50 ms': values.p50.toFixed(1),
    'p95 ms': values.p95.toFixed(1),
  });
}

async function main() {
  await withChain(0, async (client, target) => {
    await client.orders.placeOrder(target); // warm caches (route lookup, fee data)
    record('automine', 'placeOrder c=1', await throughput(client, target, 1, 40), 40);
    record('automine', 'placeOrder c=16', await throughput(client, target, 16, 160), 160);
  });
  await withChain(2000, async (client, target) => {
    await client.orders.placeOrder(target);
    record('2 s blocks', 'placeOrder c=1', await throughput(client, target, 1, 5), 5);
    record('2 s blocks', 'placeOrder c=16', await throughput(client, target, 16, 48), 48);

    const pool = createOrderPool({ orders: client.orders, targetSize: 8, refillConcurrency: 8 });
    await pool.warm(target, 8, 60_000);
    const fromPool: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t = performance.now();
      const got = await pool.acquire(target);
      fromPool.push(performance.now() - t);
      if (!got.fromPool) console.warn('pool was empty on acquire', i);
    }
    await pool.close();
    record('2 s blocks', 'order from warm pool', { p50: percentile(fromPool, 0.5), p95: percentile(fromPool, 0.95) }, 8);
    const fresh = await throughput(client, target, 1, 3);
    record('2 s blocks', 'order placed fresh', { p50: fresh.p50, p95: fresh.p95 }, 3);
  });
  console.table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
