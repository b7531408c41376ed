// Confirmations and reorgs on a real local chain (blocks mined by hand, reorgs made with evm_snapshot /
// evm_revert): an order and a log anchor count only once 2 blocks are on top; one a reorg removes
// before then is placed again (one payment on the final chain, none lost); an order a reorg removes
// after the gateway took it is refused by the worker as `order_reorged`, told apart from a forged hash.
// An anchor's value is UTF-8 JSON that ocean.js `Nft.getData` reads.
import { Nft } from '@oceanprotocol/lib';
import { Wallet, hexlify, toUtf8Bytes } from 'ethers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { publicChainConfig } from '../../../src/ocean/chain-config.js';
import { chainTxPolicy } from '../../../src/ocean/chain-tx-policy.js';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { GAS } from '../../../src/ocean/gas-limits.js';
import { type JobOrderChecker, type OrderCheckInput, createJobOrderChecker } from '../../../src/ocean/job-order-check.js';
import { createLogAnchor, readAnchorTx } from '../../../src/ocean/log-anchor.js';
import type { PublishedModel } from '../../../src/ocean/model-publisher.js';
import type { PlacedOrder } from '../../../src/ocean/order-service.js';
import { eventually } from '../../helpers/worker-process.js';
import { type OceanFixture, RUNTIME, startOceanFixture } from './ocean-fixture.js';

const CONFIRMATIONS = 2;
const WEIGHTS = 'c3'.repeat(32);
let fx: OceanFixture;
let model: PublishedModel;
let checker: JobOrderChecker;
const dt = contractInterface('ERC20Template');
const target = () => ({ datatokenAddress: model.datatokenAddress, serviceId: model.serviceId, serviceIndex: 0 });
const rpc = (method: string, params: unknown[] = []) => fx.ocean.chain.request(method, params);
const head = async () => Number(await rpc('eth_blockNumber'));
const nonceOf = async (address: string) => Number(await rpc('eth_getTransactionCount', [address, 'latest']));

/** Mines a block every 50 ms until `work` settles (the chain mines nothing by itself here). */
async function mining<T>(work: Promise<T>): Promise<T> {
  let settled = false;
  const watched = work.finally(() => {
    settled = true;
  });
  watched.catch(() => {});
  while (!settled) {
    await rpc('evm_mine');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return watched;
}

/** OrderStarted events of this datatoken in the canonical chain from `fromBlock`. */
async function ordersSince(fromBlock: number) {
  const logs = (await rpc('eth_getLogs', [
    { address: model.datatokenAddress, fromBlock: `0x${fromBlock.toString(16)}`, toBlock: 'latest', topics: [dt.getEvent('OrderStarted')!.topicHash] },
  ])) as Array<{ transactionHash: string }>;
  return logs.map((l) => l.transactionHash);
}

const checkInput = (order: { txHash: string; blockHash?: string }): OrderCheckInput => ({
  jobId: 'job',
  orderTxHash: order.txHash,
  orderChainId: fx.client.chainId,
  orderBlockHash: order.blockHash ?? null,
  weightsSha256: WEIGHTS,
  model: { id: 'm', datatokenAddress: model.datatokenAddress, nftAddress: model.nftAddress, serviceTimeout: 3600, serviceId: model.serviceId },
});

beforeAll(async () => {
  fx = await startOceanFixture({
    client: {
      txPolicy: { ...chainTxPolicy(8996), confirmations: CONFIRMATIONS },
      wait: { timeoutMs: 60_000, pollMs: 50 },
      retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 400 },
    },
  });
  model = await mining(
    fx.client.models.publishModel({ name: 'Deep GPT', weightsSha256: WEIGHTS, pricing: { type: 'free' }, serviceTimeout: 3600, trustedAlgorithm: RUNTIME }),
  );
  checker = createJobOrderChecker(publicChainConfig(fx.ocean.config), { confirmations: CONFIRMATIONS, receiptWaitMs: 1_500, watchIntervalMs: 200 });
}, 120_000);

afterAll(async () => {
  checker?.close();
  await fx?.stop();
});

it('a transaction counts only with 2 blocks on top of its own', async () => {
  const ocean = contractInterface('OceanToken');
  const sent = await fx.client.consumer.send({ to: fx.client.addresses.Ocean, data: ocean.encodeFunctionData('approve', [fx.client.addresses.FixedPrice, 1n]), gasLimit: GAS.approve });
  // Mined at once (automine), but nothing on top: not counted within the bound.
  await expect(fx.client.consumer.wait(sent, { timeoutMs: 1_500 })).rejects.toMatchObject({ code: 'tx_timeout', message: expect.stringMatching(/not 2 block\(s\) deep/) });
  const minedIn = Number(((await rpc('eth_getTransactionReceipt', [sent.hash])) as { blockNumber: string }).blockNumber);
  await rpc('evm_mine');
  await expect(fx.client.consumer.wait(sent, { timeoutMs: 1_500 })).rejects.toMatchObject({ code: 'tx_timeout' });
  await rpc('evm_mine');
  const receipt = await fx.client.consumer.wait(sent, { timeoutMs: 5_000 });
  expect(receipt.blockNumber).toBe(minedIn);
  expect(await head()).toBeGreaterThanOrEqual(minedIn + CONFIRMATIONS);
});

it('an order a reorg removes before its confirmations is placed again: one payment on the final chain', async () => {
  const start = await head();
  const nonce = await nonceOf(fx.client.consumerAddress);
  const snapshot = await rpc('evm_snapshot');
  const placing = fx.client.orders.placeOrder(target());
  // Both transactions (dispense, startOrder) mined, not yet deep enough: the reorg takes them out.
  await eventually(async () => (await nonceOf(fx.client.consumerAddress)) === nonce + 2, 30_000);
  const [first] = await ordersSince(start + 1);
  expect(first).toBeDefined();
  const firstBlock = ((await rpc('eth_getTransactionReceipt', [first])) as { blockHash: string }).blockHash;
  expect(await rpc('evm_revert', [snapshot])).toBe(true);
  expect(await rpc('eth_getTransactionReceipt', [first])).toBeNull();

  const order: PlacedOrder = await mining(placing);
  expect(order.blockHash).not.toBe(firstBlock);
  expect(await head()).toBeGreaterThanOrEqual(order.blockNumber + CONFIRMATIONS);
  // Exactly one order paid on the chain that stands, and it is the one returned.
  expect(await ordersSince(start + 1)).toEqual([order.txHash]);
  expect(await checker.check(checkInput(order))).toEqual({ ok: true });
}, 120_000);

it('the worker waits for confirmations, and refuses an order a reorg removed as order_reorged, not as forged', async () => {
  const snapshot = await rpc('evm_snapshot');
  const order = await mining(fx.client.orders.placeOrder(target()));
  expect(await checker.check(checkInput(order))).toEqual({ ok: true });

  // The same order checked with more confirmations than the chain has: not yet, and the job waits.
  const deeper = createJobOrderChecker(publicChainConfig(fx.ocean.config), { confirmations: 50, receiptWaitMs: 600, watchIntervalMs: 200 });
  try {
    expect(await deeper.check(checkInput(order))).toMatchObject({ ok: false, permanent: false, code: 'order_unconfirmed' });
  } finally {
    deeper.close();
  }

  // A hash that never was an order, named with a block the chain still has: forged, not reorged.
  const forged = { txHash: `0x${'5a'.repeat(32)}`, blockHash: order.blockHash };
  expect(await checker.check(checkInput(forged))).toMatchObject({ ok: false, permanent: true, code: 'invalid_order', message: expect.stringMatching(/^not_found/) });

  // A reorg deeper than the confirmations takes the order's block away after the gateway took it.
  expect(await rpc('evm_revert', [snapshot])).toBe(true);
  fx.client.consumer.markStale();
  const refused = await checker.check(checkInput(order));
  expect(refused).toMatchObject({ ok: false, permanent: true, code: 'order_reorged' });
  expect(refused.ok === false && refused.message).toContain(order.blockHash);
}, 120_000);

it('a log anchor a reorg removes before its confirmations is anchored again, and ocean.js reads it', async () => {
  const anchor = createLogAnchor({ publisher: fx.client.publisher, addresses: fx.client.addresses });
  const nft = await mining(anchor.ensureNft(fx.client.provider));
  const root = 'ab'.repeat(32);
  const nonce = await nonceOf(fx.client.publisherAddress);
  const snapshot = await rpc('evm_snapshot');
  const anchoring = anchor.anchor(nft, 7, root);
  await eventually(async () => (await nonceOf(fx.client.publisherAddress)) === nonce + 1, 30_000);
  expect(await rpc('evm_revert', [snapshot])).toBe(true);

  const anchored = await mining(anchoring);
  expect(await head()).toBeGreaterThanOrEqual(anchored.blockNumber + CONFIRMATIONS);
  expect(await readAnchorTx(fx.client.provider, anchored.txHash)).toMatchObject({ treeSize: 7, rootHash: root, nftAddress: nft });
  // The value is text Ocean's own library reads back.
  const reader = new Nft(new Wallet(fx.ocean.chain.accounts[4].privateKey, fx.client.provider) as never, fx.client.chainId);
  expect(JSON.parse(await reader.getData(nft, hexlify(toUtf8Bytes('posthuman.log.tree_head'))))).toEqual({ tree_size: 7, root_hash: root });
}, 120_000);
