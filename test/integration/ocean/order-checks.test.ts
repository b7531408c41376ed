// The worker's order check against a real local chain, one refusal at a time: a datatoken that is not
// the model NFT's, an asset from another factory, a provider fee naming another service or datatoken,
// a revoked or deprecated asset (seen without a round trip per job, within the watch interval), a
// weights hash changed on chain, and a receipt not visible yet (asked again within a bound).
import { Wallet, hexlify, randomBytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicChainConfig } from '../../../src/ocean/chain-config.js';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { deployOceanContracts } from '../../../src/ocean/deploy-contracts.js';
import { GAS } from '../../../src/ocean/gas-limits.js';
import { type JobOrderChecker, type OrderCheckInput, createJobOrderChecker } from '../../../src/ocean/job-order-check.js';
import { type PublishedModel, WEIGHTS_SHA256_KEY, erc725Text } from '../../../src/ocean/model-publisher.js';
import { ManagedSigner } from '../../../src/ocean/nonce-manager.js';
import { createOceanClient } from '../../../src/ocean/ocean-client.js';
import { signProviderFee } from '../../../src/ocean/provider-fee.js';
import { eventually } from '../../helpers/worker-process.js';
import { type OceanFixture, RUNTIME, startOceanFixture } from './ocean-fixture.js';

let fx: OceanFixture;
let checker: JobOrderChecker;
let a: PublishedModel;
let b: PublishedModel;
const WEIGHTS_A = 'a7'.repeat(32);
const WEIGHTS_B = 'b8'.repeat(32);

const target = (m: PublishedModel, serviceId = m.serviceId) => ({ datatokenAddress: m.datatokenAddress, serviceId, serviceIndex: 0 });
const input = (orderTxHash: string, m: PublishedModel, weights: string, extra: Partial<OrderCheckInput['model']> = {}): OrderCheckInput => ({
  jobId: 'job',
  orderTxHash,
  orderChainId: fx.client.chainId,
  weightsSha256: weights,
  model: { id: 'm', datatokenAddress: m.datatokenAddress, nftAddress: m.nftAddress, serviceTimeout: 3600, serviceId: m.serviceId, ...extra },
});
const nft = contractInterface('ERC721Template');
const publisherTx = (to: string, fn: string, args: unknown[]) =>
  fx.client.publisher.sendAndWait({ to, data: nft.encodeFunctionData(fn, args), gasLimit: GAS.setNewData });

beforeAll(async () => {
  fx = await startOceanFixture();
  const base = { serviceTimeout: 3600, trustedAlgorithm: RUNTIME, pricing: { type: 'free' } as const };
  a = await fx.client.models.publishModel({ ...base, name: 'Checked A', weightsSha256: WEIGHTS_A });
  b = await fx.client.models.publishModel({ ...base, name: 'Checked B', weightsSha256: WEIGHTS_B });
  checker = createJobOrderChecker(publicChainConfig(fx.ocean.config), { receiptWaitMs: 1_500, watchIntervalMs: 100 });
});

afterAll(async () => {
  checker?.close();
  await fx?.stop();
});

describe("the asset's provenance", () => {
  it('accepts a genuine order', async () => {
    const order = await fx.client.orders.placeOrder(target(a));
    expect(await checker.check(input(order.txHash, a, WEIGHTS_A))).toEqual({ ok: true });
  });

  it("refuses a datatoken that the model's NFT did not deploy", async () => {
    const order = await fx.client.orders.placeOrder(target(a));
    const check = await checker.check(input(order.txHash, a, WEIGHTS_A, { nftAddress: b.nftAddress }));
    expect(check).toMatchObject({ ok: false, permanent: true, code: 'invalid_order', message: expect.stringMatching(/^datatoken_not_of_nft: /) });
  });

  it("refuses an NFT and datatoken from another factory than Ocean's", async () => {
    // A second, look-alike deployment of Ocean's contracts on the same chain, used by another wallet.
    const deployer = new ManagedSigner(fx.ocean.chain.accounts[1].privateKey, fx.client.provider, { chainId: fx.client.chainId });
    const lookalike = await deployOceanContracts(deployer, fx.client.chainId);
    const key = fx.ocean.chain.accounts[2].privateKey;
    const other = createOceanClient({ ...fx.ocean.config, addresses: lookalike, consumerPrivateKey: key, publisherPrivateKey: key });
    try {
      const model = await other.models.publishModel({ serviceTimeout: 3600, trustedAlgorithm: RUNTIME, pricing: { type: 'free' }, name: 'Look-alike', weightsSha256: WEIGHTS_A });
      const order = await other.orders.placeOrder(target(model));
      const check = await checker.check(input(order.txHash, model, WEIGHTS_A));
      expect(check).toMatchObject({ ok: false, permanent: true, code: 'invalid_order', message: expect.stringMatching(/^not_from_factory: /) });
    } finally {
      other.close();
    }
  });
});

describe('a model published after the last poll', () => {
  it('is read at the current block, not at the block the last poll saw', async () => {
    // A long interval: the cached chain head stays older than the new model.
    const slow = createJobOrderChecker(publicChainConfig(fx.ocean.config), { receiptWaitMs: 0, watchIntervalMs: 60_000 });
    try {
      expect(await slow.check(input((await fx.client.orders.placeOrder(target(a))).txHash, a, WEIGHTS_A))).toEqual({ ok: true });
      const young = await fx.client.models.publishModel({ serviceTimeout: 3600, trustedAlgorithm: RUNTIME, pricing: { type: 'free' }, name: 'Young', weightsSha256: WEIGHTS_B });
      const order = await fx.client.orders.placeOrder(target(young));
      expect(await slow.check(input(order.txHash, young, WEIGHTS_B))).toEqual({ ok: true });
    } finally {
      slow.close();
    }
  });
});

describe("the provider fee's providerData", () => {
  it('refuses a fee naming another service of the datatoken', async () => {
    const order = await fx.client.orders.placeOrder(target(a, 'another-service'));
    const check = await checker.check(input(order.txHash, a, WEIGHTS_A));
    expect(check).toMatchObject({ ok: false, code: 'invalid_order', message: expect.stringMatching(/^wrong_provider_data: .*service another-service/) });
  });

  it('refuses a fee naming another datatoken', async () => {
    const dt = contractInterface('ERC20Template');
    const dispenser = contractInterface('Dispenser');
    const consumer = fx.client.consumer;
    await consumer.sendAndWait({ to: fx.client.addresses.Dispenser, data: dispenser.encodeFunctionData('dispense', [a.datatokenAddress, 10n ** 18n, consumer.address]), gasLimit: GAS.dispense });
    const fee = await signProviderFee(new Wallet(fx.ocean.config.providerPrivateKey), { datatokenAddress: b.datatokenAddress, serviceId: a.serviceId, feeToken: fx.client.addresses.Ocean, validForSeconds: 3600 });
    const market = { consumeMarketFeeAddress: consumer.address, consumeMarketFeeToken: fx.client.addresses.Ocean, consumeMarketFeeAmount: 0n };
    const receipt = await consumer.sendAndWait({ to: a.datatokenAddress, data: dt.encodeFunctionData('startOrder', [consumer.address, 0, fee, market]), gasLimit: GAS.startOrder });
    const check = await checker.check(input(receipt.hash, a, WEIGHTS_A));
    expect(check).toMatchObject({ ok: false, code: 'invalid_order', message: expect.stringMatching(new RegExp(`^wrong_provider_data: provider fee names datatoken ${b.datatokenAddress}`)) });
  });
});

describe('what can change on chain', () => {
  it('stops serving a revoked asset, and a deprecated one, as soon as the state changes', async () => {
    const order = await fx.client.orders.placeOrder(target(b));
    expect(await checker.check(input(order.txHash, b, WEIGHTS_B))).toEqual({ ok: true });

    await publisherTx(b.nftAddress, 'setMetaDataState', [3]);
    const revoked = await eventually(async () => {
      const check = await checker.check(input(order.txHash, b, WEIGHTS_B));
      return !check.ok && check;
    }, 10_000);
    expect(revoked).toMatchObject({ permanent: true, code: 'model_revoked', message: expect.stringContaining('is revoked on chain') });

    await publisherTx(b.nftAddress, 'setMetaDataState', [2]);
    const deprecated = await eventually(async () => {
      const check = await checker.check(input(order.txHash, b, WEIGHTS_B));
      return !check.ok && check.code === 'model_inactive' && check;
    }, 10_000);
    expect(deprecated.message).toContain('is deprecated on chain');

    // Active again (and unlisted counts as active, as for ocean-node): it serves again.
    await publisherTx(b.nftAddress, 'setMetaDataState', [5]);
    await eventually(async () => (await checker.check(input(order.txHash, b, WEIGHTS_B))).ok, 10_000);
  });

  it("stops serving weights once the NFT's registered hash changes (DataChanged)", async () => {
    const order = await fx.client.orders.placeOrder(target(a));
    expect(await checker.check(input(order.txHash, a, WEIGHTS_A))).toEqual({ ok: true });
    const changed = await publisherTx(a.nftAddress, 'setNewData', [WEIGHTS_SHA256_KEY, erc725Text('c9'.repeat(32))]);
    const refused = await eventually(async () => {
      const check = await checker.check(input(order.txHash, a, WEIGHTS_A));
      return !check.ok && check;
    }, 10_000);
    expect(refused).toMatchObject({
      permanent: true,
      code: 'weights_changed',
      message: expect.stringContaining(`changed on chain in block ${changed.blockNumber} to ${'c9'.repeat(32)}`),
    });
    // The new weights are the ones that serve now.
    expect(await checker.check(input(order.txHash, a, 'c9'.repeat(32)))).toEqual({ ok: true });
  });
});

describe('a receipt the RPC does not show yet', () => {
  it('is asked for again within the bound, then counts as missing', async () => {
    const dt = contractInterface('ERC20Template');
    const dispenser = contractInterface('Dispenser');
    const consumer = fx.client.consumer;
    await consumer.sendAndWait({ to: fx.client.addresses.Dispenser, data: dispenser.encodeFunctionData('dispense', [b.datatokenAddress, 10n ** 18n, consumer.address]), gasLimit: GAS.dispense });
    const fee = await signProviderFee(new Wallet(fx.ocean.config.providerPrivateKey), { datatokenAddress: b.datatokenAddress, serviceId: b.serviceId, feeToken: fx.client.addresses.Ocean, validForSeconds: 3600 });
    const market = { consumeMarketFeeAddress: consumer.address, consumeMarketFeeToken: fx.client.addresses.Ocean, consumeMarketFeeAmount: 0n };
    await fx.ocean.chain.request('evm_setAutomine', [false]);
    let mined: Promise<unknown> | undefined;
    try {
      const sent = await consumer.send({ to: b.datatokenAddress, data: dt.encodeFunctionData('startOrder', [consumer.address, 0, fee, market]), gasLimit: GAS.startOrder });
      expect(await fx.client.provider.getTransactionReceipt(sent.hash)).toBeNull();
      // Mined 0.6 s into the check, as a lagging RPC would show it late.
      const checking = checker.check(input(sent.hash, b, WEIGHTS_B));
      mined = new Promise((resolve) => setTimeout(resolve, 600)).then(() => fx.ocean.chain.request('evm_mine', []));
      expect(await checking).toEqual({ ok: true });
    } finally {
      await mined;
      await fx.ocean.chain.request('evm_setAutomine', [true]);
    }
    const never = await checker.check(input(hexlify(randomBytes(32)), b, WEIGHTS_B));
    expect(never).toMatchObject({ ok: false, permanent: true, code: 'invalid_order', message: expect.stringMatching(/^not_found: no mined transaction 0x[0-9a-f]{64} after 1500 ms/) });
  });
});
