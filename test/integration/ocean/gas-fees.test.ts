// Gas and fees on the local chain: each transaction's limit is the node's estimate + 25 % (the call's
// fixed limit when the node cannot estimate, and refused, unsent, far above it), and its priority fee
// is at least the chain's minimum.
import { parseUnits } from 'ethers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chainTxPolicy } from '../../../src/ocean/chain-tx-policy.js';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { GAS } from '../../../src/ocean/gas-limits.js';
import type { PublishedModel } from '../../../src/ocean/model-publisher.js';
import { type OceanFixture, RUNTIME, startOceanFixture } from './ocean-fixture.js';

const MIN_TIP = parseUnits('3', 'gwei');
let fx: OceanFixture;
let model: PublishedModel;
const dispenser = contractInterface('Dispenser');
const ocean = contractInterface('OceanToken');
const rpc = (method: string, params: unknown[] = []) => fx.ocean.chain.request(method, params);

beforeAll(async () => {
  fx = await startOceanFixture({ client: { txPolicy: { ...chainTxPolicy(8996), minPriorityFeeWei: MIN_TIP } } });
  model = await fx.client.models.publishModel({ name: 'Gas GPT', weightsSha256: 'd4'.repeat(32), pricing: { type: 'free' }, serviceTimeout: 3600, trustedAlgorithm: RUNTIME });
}, 120_000);

afterAll(async () => {
  await fx?.stop();
});

it('signs with the estimate + 25 % and a tip of at least the chain minimum', async () => {
  const request = { to: fx.client.addresses.Dispenser, data: dispenser.encodeFunctionData('dispense', [model.datatokenAddress, 10n ** 18n, fx.client.consumerAddress]), gasLimit: GAS.dispense };
  const estimate = BigInt((await rpc('eth_estimateGas', [{ from: fx.client.consumerAddress, to: request.to, data: request.data }])) as string);
  const sent = await fx.client.consumer.send(request);
  expect(sent.gasFrom).toBe('estimate');
  expect(sent.gasLimit).toBe((estimate * 125n + 99n) / 100n);
  expect(sent.gasLimit).not.toBe(GAS.dispense);
  const receipt = await fx.client.consumer.wait(sent);
  const tx = (await rpc('eth_getTransactionByHash', [sent.hash])) as { gas: string; maxPriorityFeePerGas: string; type: string };
  expect(BigInt(tx.gas)).toBe(sent.gasLimit);
  expect(receipt.gasUsed).toBeLessThanOrEqual(sent.gasLimit);
  // The node suggests less than the minimum here: the minimum is paid, on top of the block's base fee.
  const suggested = BigInt((await rpc('eth_maxPriorityFeePerGas')) as string);
  expect(suggested).toBeLessThan(MIN_TIP);
  // Plus a salt of under a million wei (nonce-manager.ts: two senders on one key never sign the same bytes).
  const tip = BigInt(tx.maxPriorityFeePerGas);
  expect(tip).toBeGreaterThan(MIN_TIP);
  expect(tip).toBeLessThan(MIN_TIP + 1_000_000n);
  const block = (await rpc('eth_getBlockByNumber', [`0x${receipt.blockNumber.toString(16)}`, false])) as { baseFeePerGas: string };
  expect(receipt.gasPrice).toBe(BigInt(block.baseFeePerGas) + tip);
});

it('falls back to the fixed limit when the node cannot estimate (the call reverts)', async () => {
  const tooMuch = ocean.encodeFunctionData('transfer', [fx.client.providerAddress, 10n ** 40n]);
  const sent = await fx.client.consumer.send({ to: fx.client.addresses.Ocean, data: tooMuch, gasLimit: 90_000n });
  expect(sent).toMatchObject({ gasFrom: 'fixed', gasLimit: 90_000n });
  await expect(fx.client.consumer.wait(sent)).rejects.toMatchObject({ code: 'tx_reverted' });
});

it('refuses, without sending, a call the node estimates far above its measured limit', async () => {
  const before = await fx.client.provider.getTransactionCount(fx.client.consumerAddress, 'pending');
  const data = dispenser.encodeFunctionData('dispense', [model.datatokenAddress, 10n ** 18n, fx.client.consumerAddress]);
  await expect(fx.client.consumer.send({ to: fx.client.addresses.Dispenser, data, gasLimit: 10_000n })).rejects.toMatchObject({ code: 'gas_too_high' });
  expect(await fx.client.provider.getTransactionCount(fx.client.consumerAddress, 'pending')).toBe(before);
  // The next transaction takes the nonce the refused one did not use.
  const next = await fx.client.consumer.send({ to: fx.client.addresses.Dispenser, data, gasLimit: GAS.dispense });
  expect(next.nonce).toBe(before);
  await fx.client.consumer.wait(next);
});

it('places an order whose every transaction was estimated, and it validates', async () => {
  const order = await fx.client.orders.placeOrder({ datatokenAddress: model.datatokenAddress, serviceId: model.serviceId, serviceIndex: 0 });
  const tx = (await rpc('eth_getTransactionByHash', [order.txHash])) as { gas: string };
  const receipt = await fx.client.provider.getTransactionReceipt(order.txHash);
  expect(BigInt(tx.gas)).not.toBe(GAS.startOrder);
  expect(receipt!.gasUsed).toBeLessThanOrEqual(BigInt(tx.gas));
  const check = await fx.client.validateOrder({ txHash: order.txHash, datatokenAddress: model.datatokenAddress, expectedConsumer: fx.client.consumerAddress, serviceIndex: 0, providerAddress: fx.client.providerAddress, validitySeconds: 3600 });
  expect(check.ok).toBe(true);
});
