// Many orders in flight from one wallet: the nonce manager must let every one of them land.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PublishedModel } from '../../../src/ocean/model-publisher.js';
import { createOceanClient } from '../../../src/ocean/ocean-client.js';
import { type OceanFixture, RUNTIME, startOceanFixture } from './ocean-fixture.js';

let fx: OceanFixture;
let model: PublishedModel;

beforeAll(async () => {
  fx = await startOceanFixture();
  model = await fx.client.models.publishModel({ name: 'Busy GPT', weightsSha256: 'd4'.repeat(32), pricing: { type: 'free' }, serviceTimeout: 3600, trustedAlgorithm: RUNTIME });
});

afterAll(async () => {
  await fx?.stop();
});

it('places 50 concurrent orders from one wallet, and every one validates', async () => {
  const target = { datatokenAddress: model.datatokenAddress, serviceId: model.serviceId, serviceIndex: 0 };
  const startNonce = await fx.client.provider.getTransactionCount(fx.client.consumerAddress, 'latest');
  const placed = await Promise.all(Array.from({ length: 50 }, () => fx.client.orders.placeOrder(target)));
  expect(new Set(placed.map((p) => p.txHash)).size).toBe(50);
  // Two transactions per order (dispense + startOrder) and no retries were needed to get there.
  expect(await fx.client.provider.getTransactionCount(fx.client.consumerAddress, 'latest')).toBe(startNonce + 100);
  const results = await Promise.all(
    placed.map((p) =>
      fx.client.validateOrder({
        txHash: p.txHash,
        datatokenAddress: model.datatokenAddress,
        expectedConsumer: fx.client.consumerAddress,
        serviceIndex: 0,
        providerAddress: fx.client.providerAddress,
        validitySeconds: 3600,
      }),
    ),
  );
  expect(results.filter((r) => !r.ok)).toEqual([]);
});

it('places orders from two processes sharing the wallet (two gateways on one key) without an order failing', async () => {
  const target = { datatokenAddress: model.datatokenAddress, serviceId: model.serviceId, serviceIndex: 0 };
  // Each client keeps its own nonce cache, as a second gateway process would, with the default
  // bounded retries: a nonce the other one took must not cost an order.
  const gateways = [createOceanClient(fx.ocean.config), createOceanClient(fx.ocean.config)];
  try {
    const startNonce = await fx.client.provider.getTransactionCount(fx.client.consumerAddress, 'latest');
    const placed = await Promise.all(gateways.flatMap((g) => Array.from({ length: 15 }, () => g.orders.placeOrder(target))));
    // Thirty distinct orders: none handed to two callers (their identical calls are salted apart).
    expect(new Set(placed.map((p) => p.txHash)).size).toBe(30);
    // Two transactions per order at least; a collision may cost a retried acquire, never an order.
    expect(await fx.client.provider.getTransactionCount(fx.client.consumerAddress, 'latest')).toBeGreaterThanOrEqual(startNonce + 60);
    const check = (txHash: string) =>
      fx.client.validateOrder({ txHash, datatokenAddress: model.datatokenAddress, expectedConsumer: fx.client.consumerAddress, serviceIndex: 0, providerAddress: fx.client.providerAddress, validitySeconds: 3600 });
    expect((await Promise.all(placed.map((p) => check(p.txHash)))).filter((r) => !r.ok)).toEqual([]);
  } finally {
    for (const g of gateways) g.close();
  }
});
