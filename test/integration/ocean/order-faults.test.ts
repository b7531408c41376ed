// Faults on a chain mining a block every 500 ms: a dropped transaction (sent again), the order pool,
// and the RPC going away mid-order. No success may be reported for a transaction that did not land.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { GAS } from '../../../src/ocean/gas-limits.js';
import type { PublishedModel } from '../../../src/ocean/model-publisher.js';
import { OceanError } from '../../../src/ocean/ocean-error.js';
import { createOrderPool } from '../../../src/ocean/order-pool.js';
import { type OceanFixture, RUNTIME, startOceanFixture } from './ocean-fixture.js';

let fx: OceanFixture;
let model: PublishedModel;
const target = () => ({ datatokenAddress: model.datatokenAddress, serviceId: model.serviceId, serviceIndex: 0 });
const validate = (txHash: string) =>
  fx.client.validateOrder({
    txHash,
    datatokenAddress: model.datatokenAddress,
    expectedConsumer: fx.client.consumerAddress,
    serviceIndex: 0,
    providerAddress: fx.client.providerAddress,
    validitySeconds: 3600,
  });

beforeAll(async () => {
  fx = await startOceanFixture({
    intervalMiningMs: 500,
    client: { wait: { timeoutMs: 15_000, pollMs: 100 }, retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 400 } },
  });
  model = await fx.client.models.publishModel({ name: 'Faulty GPT', weightsSha256: 'e5'.repeat(32), pricing: { type: 'free' }, serviceTimeout: 3600, trustedAlgorithm: RUNTIME });
});

afterAll(async () => {
  await fx?.stop();
});

it('recovers from a dropped transaction: it is sent again under its nonce and the queued tx lands', async () => {
  const ocean = contractInterface('OceanToken');
  const approve = (amount: bigint) => ({ to: fx.client.addresses.Ocean, data: ocean.encodeFunctionData('approve', [fx.client.addresses.FixedPrice, amount]), gasLimit: GAS.approve });
  // Mining paused so the drop surely happens before a block could include the tx.
  await fx.ocean.chain.request('evm_setIntervalMining', [0]);
  const dropped = await fx.client.consumer.send(approve(1n));
  expect(await fx.ocean.chain.request('hardhat_dropTransaction', [dropped.hash])).toBe(true);
  // Sent after the gap: stuck behind the missing nonce until something fills it.
  const queued = await fx.client.consumer.send(approve(2n));
  expect(queued.nonce).toBe(dropped.nonce + 1);
  await fx.ocean.chain.request('evm_setIntervalMining', [500]);
  // The node forgot it: the signer sends it again (same nonce, bumped fees), which fills the gap.
  const resent = await fx.client.consumer.wait(dropped);
  expect(resent.hash).not.toBe(dropped.hash);
  expect((await fx.client.provider.getTransaction(resent.hash))?.nonce).toBe(dropped.nonce);

  const placed = await fx.client.orders.placeOrder(target());
  expect((await validate(placed.txHash)).ok).toBe(true);
  const queuedReceipt = await fx.client.consumer.wait(queued);
  expect(queuedReceipt.status).toBe(1);
});

it('serves jobs from a warm pool and refills it in the background', async () => {
  const pool = createOrderPool({ orders: fx.client.orders, targetSize: 3, refillConcurrency: 3 });
  await pool.warm(target(), 3, 30_000);
  const pooled = await pool.acquire(target());
  expect(pooled.fromPool).toBe(true);
  expect((await validate(pooled.order.txHash)).ok).toBe(true);
  await pool.warm(target(), 3, 30_000);
  expect(pool.size(target())).toBe(3);
  const next = await pool.acquire(target());
  expect(next.order.txHash).not.toBe(pooled.order.txHash);
  await pool.close();
});

it('throws a typed error after bounded retries when the RPC goes away mid-order', async () => {
  const before = await fx.client.provider.getTransactionCount(fx.client.consumerAddress, 'pending');
  // Mining paused: the order's transactions stay pending, so the RPC surely dies mid-order.
  await fx.ocean.chain.request('evm_setIntervalMining', [0]);
  const attempt = fx.client.orders.placeOrder(target());
  // Stop the RPC once the order's transactions are in the mempool.
  const deadline = Date.now() + 10_000;
  while (Number(await fx.ocean.chain.request('eth_getTransactionCount', [fx.client.consumerAddress, 'pending'])) < before + 2) {
    if (Date.now() > deadline) throw new Error('order transactions never reached the mempool');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await fx.ocean.chain.stop();
  const err = await attempt.catch((e) => e);
  expect(err).toBeInstanceOf(OceanError);
  expect(err.code).toBe('rpc_unavailable');
  expect(err.message).toMatch(/after 3 attempt/);
  await expect(validate(`0x${'1'.repeat(64)}`)).rejects.toMatchObject({ code: 'rpc_unavailable' });
});
