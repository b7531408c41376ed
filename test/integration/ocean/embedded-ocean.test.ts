// The zero-config chain: keys (0600) and chain state persist in the data dir, ocean.js reads the
// address file we write, and the JSON-RPC endpoint refuses test and admin methods.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRpcProvider } from '../../../src/ocean/chain-config.js';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { createOceanClient } from '../../../src/ocean/ocean-client.js';
import { startLocalChain } from '../../../src/ocean/local-chain.js';
import { RUNTIME } from './ocean-fixture.js';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'posthuman-embedded-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('keeps wallet keys and the whole chain across restarts: contracts, publications, transactions, blocks', async () => {
  const first = await startEmbeddedOcean({ dataDir, port: 0 });
  const client = createOceanClient(first.config);
  let nftAddress: string;
  let did: string;
  let publishTx: string;
  let publishBlock: { number: number; hash: string; timestamp: number };
  try {
    expect((await stat(first.walletFile)).mode & 0o777).toBe(0o600);
    const book = JSON.parse(await readFile(first.addressFile, 'utf8'));
    expect(book.development).toMatchObject({ chainId: 8996, ERC721Factory: first.config.addresses.ERC721Factory, Ocean: first.config.addresses.Ocean });

    const ocean = contractInterface('OceanToken');
    const [oceanBalance] = ocean.decodeFunctionResult('balanceOf', await client.provider.call({ to: first.config.addresses.Ocean, data: ocean.encodeFunctionData('balanceOf', [client.consumerAddress]) }));
    expect(oceanBalance).toBeGreaterThan(0n);
    expect(await client.provider.getBalance(client.consumerAddress)).toBeGreaterThan(0n);
    expect(await client.provider.getBalance(client.providerAddress)).toBeGreaterThan(0n);

    const model = await client.models.publishModel({ name: 'Persist GPT', weightsSha256: '7'.repeat(64), pricing: { type: 'free' }, serviceTimeout: 60, trustedAlgorithm: RUNTIME });
    nftAddress = model.nftAddress;
    did = model.did;
    publishTx = Object.values(model.txHashes)[0] as string;
    const mined = await client.provider.getTransactionReceipt(publishTx);
    const block = await client.provider.getBlock(mined!.blockNumber);
    publishBlock = { number: block!.number, hash: block!.hash!, timestamp: block!.timestamp };

    // ocean.js agrees: it finds our contracts through ADDRESS_FILE and derives the same DID.
    process.env.ADDRESS_FILE = first.addressFile;
    const lib = await import('@oceanprotocol/lib');
    const config = new lib.ConfigHelper().getConfig(8996);
    expect(config?.nftFactoryAddress).toBe(first.config.addresses.ERC721Factory);
    expect(config?.dispenserAddress).toBe(first.config.addresses.Dispenser);
    expect(lib.generateDid(nftAddress, 8996)).toBe(did);
  } finally {
    client.close();
    await first.stop();
  }
  const firstWritten = (await stat(first.addressFile)).mtimeMs;

  const second = await startEmbeddedOcean({ dataDir, port: 0 });
  const again = createOceanClient(second.config);
  try {
    expect(second.chain.replayed.blocks).toBeGreaterThan(0);
    expect(again.consumerAddress).toBe(client.consumerAddress);
    expect(again.providerAddress).toBe(client.providerAddress);
    expect(second.config.marketplaceFeeAddress).toBe(first.config.marketplaceFeeAddress);
    expect(second.config.addresses).toEqual(first.config.addresses);
    // The model published before the restart is still there, in the same block at the same time.
    expect(await again.provider.getCode(nftAddress)).not.toBe('0x');
    expect(await again.readWeightsSha256(nftAddress)).toBe('7'.repeat(64));
    const mined = await again.provider.getTransactionReceipt(publishTx);
    expect(mined?.status).toBe(1);
    const block = await again.provider.getBlock(publishBlock.number);
    expect({ number: block!.number, timestamp: block!.timestamp }).toEqual({ number: publishBlock.number, timestamp: publishBlock.timestamp });
    // Nothing was re-deployed: the address file is as the first start left it.
    expect((await stat(second.addressFile)).mtimeMs).toBe(firstWritten);
    // New work continues on top of the old chain.
    const next = await again.models.publishModel({ name: 'After restart', weightsSha256: '8'.repeat(64), pricing: { type: 'free' }, serviceTimeout: 60, trustedAlgorithm: RUNTIME });
    expect(next.nftAddress).not.toBe(nftAddress);
  } finally {
    again.close();
    await second.stop();
  }

  const third = await startEmbeddedOcean({ dataDir, port: 0 });
  const once = createOceanClient(third.config);
  try {
    expect(await once.readWeightsSha256(nftAddress)).toBe('7'.repeat(64));
    expect((await once.provider.getTransactionReceipt(publishTx))?.blockNumber).toBe(publishBlock.number);
  } finally {
    once.close();
    await third.stop();
  }
});

it('serves reads and raw transactions over HTTP, and refuses test, admin and unlocked-signing methods', async () => {
  const chain = await startLocalChain({ port: 0 });
  try {
    const call = async (method: string, params: unknown[] = []) => {
      const res = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
      return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
    };
    expect((await call('eth_chainId')).result).toBe('0x2324');
    expect((await call('eth_blockNumber')).error).toBeUndefined();
    for (const [method, params] of [
      ['hardhat_impersonateAccount', [chain.accounts[0].address]],
      ['hardhat_setBalance', [chain.accounts[1].address, '0x1']],
      ['evm_increaseTime', [3600]],
      ['evm_mine', []],
      ['evm_snapshot', []],
      ['debug_traceTransaction', ['0x'.padEnd(66, '0')]],
      ['personal_sign', ['0x00', chain.accounts[0].address]],
      ['eth_sendTransaction', [{ from: chain.accounts[0].address, to: chain.accounts[1].address, value: '0x1' }]],
      ['eth_sign', [chain.accounts[0].address, '0x00']],
      ['eth_accounts', []],
    ] as const) {
      const answer = await call(method, [...params]);
      expect(answer.error, method).toMatchObject({ code: -32601 });
      expect(answer.result, method).toBeUndefined();
    }
    // Nothing those calls asked for happened.
    expect(await chain.request('eth_blockNumber')).toBe('0x0');
  } finally {
    await chain.stop();
  }
});

it('keeps an interval-mined chain: the same transactions in the same blocks after a restart, mining on', async () => {
  const journalFile = join(dataDir, 'interval', 'journal.jsonl');
  const first = await startLocalChain({ port: 0, journalFile, intervalMiningMs: 100 });
  const provider = createRpcProvider(first.rpcUrl, first.chainId);
  const wallet = new Wallet(first.accounts[1].privateKey, provider);
  let hashes: string[];
  let head: number;
  let mined: { blockNumber: number; timestamp: number }[];
  try {
    // Three transfers sent at once land in interval-mined blocks, maybe together.
    const sent = await Promise.all([0, 1, 2].map((i) => wallet.sendTransaction({ to: first.accounts[2].address, value: 1n + BigInt(i), nonce: i })));
    // Receipts polled by hand: tx.wait() leaves a block poller that a destroyed provider rejects.
    const receipts = await Promise.all(sent.map((tx) => minedReceipt(provider, tx.hash)));
    hashes = sent.map((tx) => tx.hash);
    mined = await Promise.all(receipts.map(async (r) => ({ blockNumber: r!.blockNumber, timestamp: (await provider.getBlock(r!.blockNumber))!.timestamp })));
    await first.request('evm_mine');
    head = Number(await first.request('eth_blockNumber'));
  } finally {
    provider.destroy();
    await first.stop();
  }

  // Restarted with interval mining on: the old blocks are there and new ones keep coming.
  const second = await startLocalChain({ port: 0, journalFile, intervalMiningMs: 100 });
  const again = createRpcProvider(second.rpcUrl, second.chainId);
  try {
    expect(Number(await second.request('eth_blockNumber'))).toBeGreaterThanOrEqual(head);
    for (const [i, hash] of hashes.entries()) {
      const receipt = await again.getTransactionReceipt(hash);
      const block = await again.getBlock(receipt!.blockNumber);
      expect({ blockNumber: receipt!.blockNumber, timestamp: block!.timestamp }).toEqual(mined[i]);
    }
    expect(await again.getTransactionCount(first.accounts[1].address)).toBe(3);
    const next = await new Wallet(first.accounts[1].privateKey, again).sendTransaction({ to: first.accounts[2].address, value: 5n, nonce: 3 });
    expect((await minedReceipt(again, next.hash)).status).toBe(1);
  } finally {
    again.destroy();
    await second.stop();
  }
});

async function minedReceipt(provider: ReturnType<typeof createRpcProvider>, hash: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`${hash} was not mined within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
