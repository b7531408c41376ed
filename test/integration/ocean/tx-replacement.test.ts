// Stuck and dropped transactions on a local chain mining only when told (automine off): one priced
// under the base fee is sent again with its nonce and fees bumped past what nodes require, the one
// behind it is not held up for good, and a transaction the node drops is sent again under its nonce.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chainTxPolicy } from '../../../src/ocean/chain-tx-policy.js';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { GAS } from '../../../src/ocean/gas-limits.js';
import type { SentTx } from '../../../src/ocean/nonce-manager.js';
import { type OceanFixture, startOceanFixture } from './ocean-fixture.js';

let fx: OceanFixture;
const ocean = contractInterface('OceanToken');
const rpc = (method: string, params: unknown[] = []) => fx.ocean.chain.request(method, params);
const approve = (amount: bigint) => ({ to: fx.client.addresses.Ocean, data: ocean.encodeFunctionData('approve', [fx.client.addresses.FixedPrice, amount]), gasLimit: GAS.approve });
type RawTx = { hash: string; nonce: string; maxFeePerGas: string; maxPriorityFeePerGas: string; blockNumber: string | null };
const txOf = async (hash: string) => (await rpc('eth_getTransactionByHash', [hash])) as RawTx | null;
/** The consumer's OCEAN allowance to the exchange, as the chain holds it now. */
async function allowanceNow(): Promise<bigint> {
  const call = { to: fx.client.addresses.Ocean, data: ocean.encodeFunctionData('allowance', [fx.client.consumerAddress, fx.client.addresses.FixedPrice]) };
  const [allowance] = ocean.decodeFunctionResult('allowance', (await rpc('eth_call', [call, 'latest'])) as string);
  return allowance as bigint;
}

/** Mines a block every 50 ms until `work` settles; each at `baseFee` when given. */
async function mining<T>(work: Promise<T>, baseFee?: bigint): Promise<T> {
  let settled = false;
  const watched = work.finally(() => {
    settled = true;
  });
  watched.catch(() => {});
  while (!settled) {
    if (baseFee) await rpc('hardhat_setNextBlockBaseFeePerGas', [`0x${baseFee.toString(16)}`]);
    await rpc('evm_mine');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return watched;
}

beforeAll(async () => {
  // Replaced after 1 s pending (a real chain's default is 15-60 s: chain-tx-policy.ts).
  fx = await startOceanFixture({ client: { txPolicy: { ...chainTxPolicy(8996), replaceAfterMs: 1_000 }, wait: { timeoutMs: 60_000, pollMs: 100 } } });
  await rpc('evm_setAutomine', [false]);
}, 120_000);

afterAll(async () => {
  await fx?.stop();
});

it('re-sends a transaction stuck under the base fee with the same nonce and bumped fees; the next nonce lands too', async () => {
  const first: SentTx = await fx.client.consumer.send(approve(11n));
  const second: SentTx = await fx.client.consumer.send(approve(12n));
  expect(second.nonce).toBe(first.nonce + 1);
  const signed = (await txOf(first.hash))!;
  // From now on every block costs more than either transaction offers: as sent, neither is ever mined.
  const baseFee = BigInt(signed.maxFeePerGas) * 4n;
  await rpc('hardhat_setNextBlockBaseFeePerGas', [`0x${baseFee.toString(16)}`]);
  await rpc('evm_mine');
  expect((await txOf(first.hash))!.blockNumber).toBeNull();

  const [r1, r2] = await mining(Promise.all([fx.client.consumer.wait(first), fx.client.consumer.wait(second)]), baseFee);
  // The nonce was mined under another hash: a replacement, same nonce, both fee fields up by > 10 %.
  expect(r1.hash).not.toBe(first.hash);
  const replacement = (await txOf(r1.hash))!;
  expect(Number(replacement.nonce)).toBe(first.nonce);
  expect(BigInt(replacement.maxFeePerGas) * 100n).toBeGreaterThanOrEqual(BigInt(signed.maxFeePerGas) * 110n);
  expect(BigInt(replacement.maxPriorityFeePerGas) * 100n).toBeGreaterThanOrEqual(BigInt(signed.maxPriorityFeePerGas) * 110n);
  expect(await rpc('eth_getTransactionReceipt', [first.hash])).toBeNull();
  expect(r2.status).toBe(1);
  expect(r2.hash).not.toBe(second.hash);
  expect(Number((await txOf(r2.hash))!.nonce)).toBe(second.nonce);
  // Each call ran once: the allowance is the second one's, and no nonce is left pending or skipped.
  const allowance = await allowanceNow();
  expect(allowance).toBe(12n);
  expect(Number(await rpc('eth_getTransactionCount', [fx.client.consumerAddress, 'latest']))).toBe(second.nonce + 1);
  expect(Number(await rpc('eth_getTransactionCount', [fx.client.consumerAddress, 'pending']))).toBe(second.nonce + 1);
}, 120_000);

it('sends a dropped transaction again under its nonce, so the one queued behind it is not blocked', async () => {
  const dropped = await fx.client.consumer.send(approve(21n));
  expect(await rpc('hardhat_dropTransaction', [dropped.hash])).toBe(true);
  const queued = await fx.client.consumer.send(approve(22n));
  expect(queued.nonce).toBe(dropped.nonce + 1);

  const [r1, r2] = await mining(Promise.all([fx.client.consumer.wait(dropped), fx.client.consumer.wait(queued)]));
  expect(r1.hash).not.toBe(dropped.hash);
  expect(Number((await txOf(r1.hash))!.nonce)).toBe(dropped.nonce);
  // The one behind it lands under its own nonce: as sent, or as its own replacement when it waited
  // past replaceAfterMs behind the gap (a loaded machine), never blocked and never run twice.
  expect(r2.status).toBe(1);
  expect(Number((await txOf(r2.hash))!.nonce)).toBe(queued.nonce);
  const allowance = await allowanceNow();
  expect(allowance).toBe(22n);
  expect(Number(await rpc('eth_getTransactionCount', [fx.client.consumerAddress, 'latest']))).toBe(queued.nonce + 1);
  expect(Number(await rpc('eth_getTransactionCount', [fx.client.consumerAddress, 'pending']))).toBe(queued.nonce + 1);
}, 120_000);
