// Deploy → publish → order → validate on a real local chain, and every way an order is refused.
import { Wallet, getBytes, hexlify, randomBytes, toUtf8String } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { GAS } from '../../../src/ocean/gas-limits.js';
import type { PublishedModel } from '../../../src/ocean/model-publisher.js';
import { ManagedSigner } from '../../../src/ocean/nonce-manager.js';
import { createOrderService } from '../../../src/ocean/order-service.js';
import { signProviderFee } from '../../../src/ocean/provider-fee.js';
import type { ValidateOrderInput } from '../../../src/ocean/order-validator.js';
import { type OceanFixture, RUNTIME, advanceChainTime, startOceanFixture } from './ocean-fixture.js';

let fx: OceanFixture;
let free: PublishedModel;
let other: PublishedModel;
const owner = Wallet.createRandom().address;
const weights = 'a1'.repeat(32);

const target = (m: PublishedModel) => ({ datatokenAddress: m.datatokenAddress, serviceId: m.serviceId, serviceIndex: m.serviceIndex });
const checkInput = (txHash: string, m: PublishedModel, extra: Partial<ValidateOrderInput> = {}): ValidateOrderInput => ({
  txHash,
  datatokenAddress: m.datatokenAddress,
  expectedConsumer: fx.client.consumerAddress,
  serviceIndex: 0,
  providerAddress: fx.client.providerAddress,
  validitySeconds: 3600,
  ...extra,
});

beforeAll(async () => {
  fx = await startOceanFixture();
  const base = { serviceTimeout: 3600, trustedAlgorithm: RUNTIME };
  free = await fx.client.models.publishModel({ ...base, name: 'Tiny GPT', weightsSha256: weights, pricing: { type: 'free' }, ownerAddress: owner });
  other = await fx.client.models.publishModel({ ...base, name: 'Other GPT', weightsSha256: 'b2'.repeat(32), pricing: { type: 'free' } });
});

afterAll(async () => {
  await fx?.stop();
});

describe('publishing', () => {
  it('registers the weights sha256 on the NFT, readable by anyone', async () => {
    expect(await fx.client.readWeightsSha256(free.nftAddress)).toBe(weights);
    expect(await fx.client.readWeightsSha256(other.nftAddress)).toBe('b2'.repeat(32));
  });

  it('sets the DDO on chain with its sha256, and hands the NFT to the owner', async () => {
    const receipt = await fx.client.provider.getTransactionReceipt(free.txHashes.setMetadata);
    const nft = contractInterface('ERC721Template');
    const created = receipt!.logs.map((l) => nft.parseLog(l)).find((e) => e?.name === 'MetadataCreated');
    const onChain = JSON.parse(toUtf8String(getBytes(created!.args.data)));
    expect(onChain).toEqual(JSON.parse(JSON.stringify(free.ddo)));
    expect(onChain.id).toBe(free.did);
    expect(onChain.services[0].compute.publisherTrustedAlgorithms).toEqual([RUNTIME]);
    expect(onChain.metadata.additionalInformation.weights_sha256).toBe(weights);
    expect(created!.args.flags).toBe('0x00');
    const [nftOwner] = nft.decodeFunctionResult('ownerOf', await fx.client.provider.call({ to: free.nftAddress, data: nft.encodeFunctionData('ownerOf', [1]) }));
    expect(nftOwner).toBe(owner);
    expect(free.txHashes.transfer).toMatch(/^0x/);
  });
});

describe('ordering and validation', () => {
  it('places an order that validates', async () => {
    const placed = await fx.client.orders.placeOrder(target(free));
    expect(placed.kind).toBe('start');
    const result = await fx.client.validateOrder(checkInput(placed.txHash, free));
    expect(result).toMatchObject({ ok: true, order: { kind: 'start', consumer: fx.client.consumerAddress, serviceIndex: 0 } });
    if (result.ok) {
      expect(result.order.providerFee.address).toBe(fx.client.providerAddress);
      expect(result.order.providerFee.serviceId).toBe(free.serviceId);
      expect(result.order.expiresAt).toBe(placed.orderedAt + 3600);
    }
  });

  it('buys from the fixed-rate exchange for a priced model', async () => {
    const paid = await fx.client.models.publishModel({ name: 'Paid GPT', weightsSha256: 'c3'.repeat(32), pricing: { type: 'fixed', priceOcean: '2' }, serviceTimeout: 3600, trustedAlgorithm: RUNTIME });
    expect(paid.exchangeId).toMatch(/^0x[0-9a-f]{64}$/);
    const ocean = contractInterface('OceanToken');
    const balance = async () => ocean.decodeFunctionResult('balanceOf', await fx.client.provider.call({ to: fx.client.addresses.Ocean, data: ocean.encodeFunctionData('balanceOf', [fx.client.consumerAddress]) }))[0] as bigint;
    const fre = contractInterface('FixedRateExchange');
    const quote = fre.decodeFunctionResult('calcBaseInGivenOutDT', await fx.client.provider.call({ to: fx.client.addresses.FixedPrice, data: fre.encodeFunctionData('calcBaseInGivenOutDT', [paid.exchangeId, 10n ** 18n, 0]) }));
    // 2 OCEAN to the owner plus the router's 0.1% Ocean swap fee.
    expect(quote.baseTokenAmount).toBe(2_002n * 10n ** 15n);
    const before = await balance();
    const placed = await fx.client.orders.placeOrder(target(paid));
    expect(before - (await balance())).toBe(quote.baseTokenAmount);
    expect((await fx.client.validateOrder(checkInput(placed.txHash, paid))).ok).toBe(true);
  });

  it('refuses a random hash, a malformed hash and a transaction that is not an order', async () => {
    expect(await fx.client.validateOrder(checkInput(hexlify(randomBytes(32)), free))).toMatchObject({ ok: false, reason: 'not_found' });
    expect(await fx.client.validateOrder(checkInput('0x1234', free))).toMatchObject({ ok: false, reason: 'not_found' });
    expect(await fx.client.validateOrder(checkInput(free.txHashes.setMetadata, free))).toMatchObject({ ok: false, reason: 'not_found' });
  });

  it('refuses a reverted transaction', async () => {
    // A wallet holding no datatoken: startOrder reverts ("Not enough datatokens") yet is mined.
    const poor = new ManagedSigner(fx.ocean.chain.accounts[3].privateKey, fx.client.provider, { chainId: fx.client.chainId });
    const dt = contractInterface('ERC20Template');
    const fee = { providerFeeAddress: fx.client.providerAddress, providerFeeToken: fx.client.addresses.Ocean, providerFeeAmount: 0, providerData: '0x', v: 27, r: `0x${'0'.repeat(64)}`, s: `0x${'0'.repeat(64)}`, validUntil: 0 };
    const data = dt.encodeFunctionData('startOrder', [poor.address, 0, fee, { consumeMarketFeeAddress: poor.address, consumeMarketFeeToken: fx.client.addresses.Ocean, consumeMarketFeeAmount: 0 }]);
    const sent = await poor.send({ to: free.datatokenAddress, data, gasLimit: GAS.startOrder });
    await expect(poor.wait(sent)).rejects.toMatchObject({ code: 'tx_reverted', txHash: sent.hash });
    expect(await fx.client.validateOrder(checkInput(sent.hash, free, { expectedConsumer: poor.address }))).toMatchObject({ ok: false, reason: 'tx_failed' });
  });

  it('refuses an order for another datatoken, consumer, service or provider', async () => {
    const placed = await fx.client.orders.placeOrder(target(free));
    expect(await fx.client.validateOrder(checkInput(placed.txHash, other))).toMatchObject({ ok: false, reason: 'wrong_datatoken' });
    expect(await fx.client.validateOrder(checkInput(placed.txHash, free, { serviceIndex: 1 }))).toMatchObject({ ok: false, reason: 'wrong_service' });
    expect(await fx.client.validateOrder(checkInput(placed.txHash, free, { providerAddress: Wallet.createRandom().address }))).toMatchObject({ ok: false, reason: 'wrong_provider' });

    // An order really paid by someone else is not ours to run.
    const stranger = new ManagedSigner(fx.ocean.chain.accounts[2].privateKey, fx.client.provider, { chainId: fx.client.chainId });
    const theirs = createOrderService({ consumer: stranger, providerSigner: new Wallet(fx.ocean.config.providerPrivateKey), addresses: fx.client.addresses, marketplaceFeeAddress: fx.ocean.config.marketplaceFeeAddress });
    const strangerOrder = await theirs.placeOrder(target(free));
    expect(await fx.client.validateOrder(checkInput(strangerOrder.txHash, free))).toMatchObject({ ok: false, reason: 'wrong_consumer' });
    expect((await fx.client.validateOrder(checkInput(strangerOrder.txHash, free, { expectedConsumer: stranger.address }))).ok).toBe(true);
  });

  it('refuses an order used up under the policy', async () => {
    const placed = await fx.client.orders.placeOrder(target(free));
    expect(await fx.client.validateOrder(checkInput(placed.txHash, free, { usedCount: 1, maxUses: 1 }))).toMatchObject({ ok: false, reason: 'overused' });
    expect((await fx.client.validateOrder(checkInput(placed.txHash, free, { usedCount: 0, maxUses: 1 }))).ok).toBe(true);
  });

  it('reuses an order within its window, and refuses it (and its reuse) once expired', async () => {
    const placed = await fx.client.orders.placeOrder(target(free));
    expect((await fx.client.validateOrder(checkInput(placed.txHash, free, { validitySeconds: 600 }))).ok).toBe(true);
    await advanceChainTime(fx, 300);
    const reused = await fx.client.orders.reuseOrder(placed.txHash, target(free));
    expect(reused).toMatchObject({ kind: 'reuse', orderedAt: placed.orderedAt });
    const result = await fx.client.validateOrder(checkInput(reused.txHash, free, { validitySeconds: 600 }));
    expect(result).toMatchObject({ ok: true, order: { kind: 'reuse', orderTxHash: placed.txHash, expiresAt: placed.orderedAt + 600 } });

    await advanceChainTime(fx, 301);
    expect(await fx.client.validateOrder(checkInput(placed.txHash, free, { validitySeconds: 600 }))).toMatchObject({ ok: false, reason: 'expired' });
    // A reuse renews the provider fee, not the datatoken payment: one order cannot be stretched forever.
    expect(await fx.client.validateOrder(checkInput(reused.txHash, free, { validitySeconds: 600 }))).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('honours a provider fee shorter than the service window, and a reuse renews it', async () => {
    const shortFees = createOrderService({ consumer: fx.client.consumer, providerSigner: new Wallet(fx.ocean.config.providerPrivateKey), addresses: fx.client.addresses, marketplaceFeeAddress: fx.ocean.config.marketplaceFeeAddress, validForSeconds: 60 });
    const placed = await shortFees.placeOrder(target(free));
    expect(placed.validUntil).toBe(placed.orderedAt + 60);
    await advanceChainTime(fx, 61);
    expect(await fx.client.validateOrder(checkInput(placed.txHash, free, { validitySeconds: 600 }))).toMatchObject({ ok: false, reason: 'expired' });
    const reused = await shortFees.reuseOrder(placed.txHash, target(free));
    expect(await fx.client.validateOrder(checkInput(reused.txHash, free, { validitySeconds: 600 }))).toMatchObject({ ok: true, order: { expiresAt: reused.validUntil } });
  });

  it('refuses a reuse that points at a transaction which is not an order', async () => {
    await expect(fx.client.orders.reuseOrder(free.txHashes.setMetadata, target(free))).rejects.toMatchObject({ code: 'invalid_argument' });
    // Sent anyway (the contract does not check what it reuses): the validator still refuses it.
    const fee = await signProviderFee(new Wallet(fx.ocean.config.providerPrivateKey), { datatokenAddress: free.datatokenAddress, serviceId: free.serviceId, feeToken: fx.client.addresses.Ocean, validForSeconds: 3600 });
    const data = contractInterface('ERC20Template').encodeFunctionData('reuseOrder', [free.txHashes.setMetadata, fee]);
    const receipt = await fx.client.consumer.sendAndWait({ to: free.datatokenAddress, data, gasLimit: GAS.reuseOrder });
    expect(await fx.client.validateOrder(checkInput(receipt.hash, free))).toMatchObject({ ok: false, reason: 'not_found' });
  });

  it('will not order a token that has no dispenser or exchange', async () => {
    await expect(fx.client.orders.placeOrder({ datatokenAddress: fx.client.addresses.Ocean, serviceId: 'x', serviceIndex: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
