// Benchmark: Ocean orders from one wallet on the in-process chain, instant blocks vs a block every
// 2 s, with 0 and 2 confirmations: placeOrder throughput and latency, and what the order pool hides
// and how fast it refills. Prints numbers, never fails on time; exits 1 if an order resolved before
// its confirmations (a correctness check). Takes about 3 minutes.
// Run: npx tsx bench/ocean-orders.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OceanChainConfig } from '../src/ocean/chain-config.js';
import { chainTxPolicy } from '../src/ocean/chain-tx-policy.js';
import { startEmbeddedOcean } from '../src/ocean/embedded-ocean.js';
import { type OceanClient, createOceanClient } from '../src/ocean/ocean-client.js';
import { createOrderPool } from '../src/ocean/order-pool.js';
import type { OrderTarget, PlacedOrder } from '../src/ocean/order-service.js';
import { percentile } from './bench-setup.js';

const RUNTIME = { did: 'did:op:bench-runtime', filesChecksum: '1'.repeat(64), containerSectionChecksum: '2'.repeat(64) };
const BLOCK_MS = 2000;
// The gateway's pool: ORDER_POOL_SIZE's default, and createOrderPool's default of 2 placements in flight.
const POOL_SIZE = 4;
const POOL_WINDOW_MS = 30_000;
// Demand of 4 orders/s, above the most the pool can refill on 2 s blocks (2 in flight per block = 1/s).
const DEMAND_EVERY_MS = 250;

interface Row {
  mining: string;
  conf: number;
  measure: string;
  n: number;
  ordersPerSecond?: number;
  latencies?: number[];
  /** Fewest blocks on top of an order's block when it was handed over (must be >= conf). */
  minDepth?: number;
  note?: string;
}

const rows: Row[] = [];
let violations = 0;

async function withChain(intervalMiningMs: number, run: (config: OceanChainConfig, target: OrderTarget) => Promise<void>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'posthuman-bench-'));
  const ocean = await startEmbeddedOcean({ dataDir, port: 0, intervalMiningMs });
  const publisher = createOceanClient(ocean.config, { wait: { pollMs: 100 } });
  try {
    const model = await publisher.models.publishModel({ name: 'Bench GPT', weightsSha256: 'f'.repeat(64), pricing: { type: 'free' }, serviceTimeout: 3600, trustedAlgorithm: RUNTIME });
    await run(ocean.config, { datatokenAddress: model.datatokenAddress, serviceId: model.serviceId, serviceIndex: 0 });
  } finally {
    publisher.close();
    await ocean.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * A client with its own nonce-managed signer waiting for `confirmations`. Clients on one chain run one
 * after another (each reads the wallet's nonce from the chain at its first send), never side by side.
 */
async function withClient(config: OceanChainConfig, confirmations: number, run: (client: OceanClient) => Promise<void>) {
  const txPolicy = { ...chainTxPolicy(config.chainId), confirmations };
  const client = createOceanClient(config, { wait: { pollMs: 100 }, txPolicy });
  try {
    await run(client);
  } finally {
    client.close();
  }
}

/**
 * Blocks on top of the order's block, read right after the order was handed over. A block mined in
 * between can only add one, so an order handed over before its confirmations shows as depth < conf
 * unless it was short by exactly one and a block landed in those few milliseconds.
 */
async function depthOf(client: OceanClient, order: PlacedOrder): Promise<number> {
  const depth = (await client.provider.getBlockNumber()) - order.blockNumber;
  const wanted = client.txPolicy.confirmations;
  if (depth < wanted) {
    violations++;
    console.error(`order ${order.txHash} in block ${order.blockNumber} was handed over at depth ${depth}, wanted ${wanted}`);
  }
  return depth;
}

async function placeOrders(client: OceanClient, target: OrderTarget, concurrency: number, total: number) {
  let next = 0;
  const latencies: number[] = [];
  // Read beside the next placement, so the check's round trip is not counted in orders/s.
  const depths: Array<Promise<number>> = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        const order = await client.orders.placeOrder(target);
        latencies.push(performance.now() - t);
        depths.push(depthOf(client, order));
      }
    }),
  );
  const ordersPerSecond = total / ((performance.now() - started) / 1000);
  return { n: total, ordersPerSecond, latencies, minDepth: Math.min(...(await Promise.all(depths))) };
}

/**
 * The pool under a demand it cannot keep up with: warmed to POOL_SIZE, then a job arrives every
 * DEMAND_EVERY_MS for POOL_WINDOW_MS. A job takes an order only when one is ready (timing acquire);
 * otherwise it is counted as a miss and places nothing, so the chain sees the pool's refills alone
 * (in the gateway a miss places its order on demand and waits like a fresh placeOrder). Once the
 * warm stock is gone, the orders handed out per second are the pool's sustained refill rate:
 * placements in flight / order latency.
 */
async function drainPool(client: OceanClient, target: OrderTarget) {
  let refillErrors = 0;
  const pool = createOrderPool({ orders: client.orders, targetSize: POOL_SIZE, onRefillError: () => refillErrors++ });
  await pool.warm(target, POOL_SIZE, 120_000);
  const latencies: number[] = [];
  const depths: number[] = [];
  let misses = 0;
  let dryAt: number | undefined;
  let handedAfterDry = 0;
  const started = performance.now();
  for (let tick = 0; tick * DEMAND_EVERY_MS < POOL_WINDOW_MS; tick++) {
    const due = started + tick * DEMAND_EVERY_MS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    if (pool.size(target) === 0) {
      misses++;
      dryAt ??= performance.now();
      continue;
    }
    const t = performance.now();
    const got = await pool.acquire(target);
    latencies.push(performance.now() - t);
    if (!got.fromPool) throw new Error('the pool placed an order on demand although it held one');
    depths.push(await depthOf(client, got.order));
    if (dryAt !== undefined) handedAfterDry++;
  }
  const ended = performance.now();
  await pool.close();
  const dryFor = dryAt === undefined ? 0 : (ended - dryAt) / 1000;
  const sustained = dryAt === undefined ? undefined : handedAfterDry / dryFor;
  const dry = dryAt === undefined ? 'never ran dry' : `dry after ${((dryAt - started) / 1000).toFixed(1)} s`;
  return {
    hits: { n: latencies.length, latencies, minDepth: Math.min(...depths) },
    refill: { n: handedAfterDry, ordersPerSecond: sustained, note: `${dry}; ${misses}/${misses + latencies.length} jobs found it empty${refillErrors ? `; ${refillErrors} refill errors` : ''}` },
  };
}

async function twoSecondBlocks(config: OceanChainConfig, target: OrderTarget, confirmations: number) {
  const mining = '2 s blocks';
  await withClient(config, confirmations, async (client) => {
    await client.orders.placeOrder(target); // warm caches (route lookup, fee data)
    // Fewer sequential orders with confirmations: each one waits three blocks.
    rows.push({ mining, conf: confirmations, measure: 'placeOrder c=1', ...(await placeOrders(client, target, 1, 6)) });
    rows.push({ mining, conf: confirmations, measure: 'placeOrder c=16', ...(await placeOrders(client, target, 16, 64)) });
    const pool = await drainPool(client, target);
    rows.push({ mining, conf: confirmations, measure: 'order from the pool (ready)', ...pool.hits });
    rows.push({ mining, conf: confirmations, measure: `pool refill (${POOL_SIZE} kept, 2 in flight)`, ...pool.refill });
  });
}

const ms = (xs: number[] | undefined, p: number) => (xs?.length ? (percentile(xs, p) as number).toFixed(1) : '-');

function printRows() {
  console.table(
    rows.map((r) => ({
      mining: r.mining,
      conf: r.conf,
      measure: r.measure,
      n: r.n,
      'orders/s': r.ordersPerSecond === undefined ? '-' : r.ordersPerSecond.toFixed(2),
      'p50 ms': ms(r.latencies, 50),
      'p99 ms': ms(r.latencies, 99),
      'min depth': r.minDepth ?? '-',
      note: r.note ?? '',
    })),
  );
  console.log('p99 of fewer than 100 samples is the slowest one. min depth: blocks on top of the order when handed over.');
}

async function main() {
  // Automine only with 0 confirmations: it mines a block per transaction, so nothing would ever be
  // mined on top of the last order.
  await withChain(0, (config, target) =>
    withClient(config, 0, async (client) => {
      await client.orders.placeOrder(target);
      rows.push({ mining: 'automine', conf: 0, measure: 'placeOrder c=1', ...(await placeOrders(client, target, 1, 40)) });
      rows.push({ mining: 'automine', conf: 0, measure: 'placeOrder c=16', ...(await placeOrders(client, target, 16, 160)) });
    }),
  );
  await withChain(BLOCK_MS, async (config, target) => {
    await twoSecondBlocks(config, target, 0);
    await twoSecondBlocks(config, target, 2);
  });
  printRows();
  if (violations > 0) {
    console.error(`${violations} orders were handed over before their confirmations`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
