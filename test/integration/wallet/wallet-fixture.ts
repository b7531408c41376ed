// One local chain with Ocean's contracts and one gateway app on it, for a wallet test file; plus what a
// wallet user does: sign in with SIWE, get OCEAN from the deployer, send it to the treasury.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, type JsonRpcProvider, NonceManager, Wallet, parseEther } from 'ethers';
import { createRpcProvider } from '../../../src/ocean/chain-config.js';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

const OCEAN_ABI = ['function mint(address to, uint256 amount)', 'function transfer(address to, uint256 amount) returns (bool)', 'function balanceOf(address) view returns (uint256)'];

export interface WalletFixture {
  t: TestApp;
  ocean: EmbeddedOcean;
  provider: JsonRpcProvider;
  treasury: string;
  /** A new funded wallet (ETH from a dev account) on the chain. */
  newWallet(): Promise<Wallet>;
  mintOcean(to: string, ocean: string): Promise<void>;
  /** Sends OCEAN to the treasury; resolves with the tx hash once mined. */
  deposit(wallet: Wallet, ocean: string): Promise<string>;
  oceanBalance(address: string): Promise<bigint>;
  mine(blocks: number): Promise<void>;
  signIn(wallet: Wallet): Promise<{ token: string; accountId: string; created: boolean; claimed: number; headers: { authorization: string } }>;
  stop(): Promise<void>;
}

export async function startWalletFixture(env: Record<string, string> = {}): Promise<WalletFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-wallet-'));
  const ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  const t = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', ANCHOR_INTERVAL_MS: '0', WALLET_WATCH_INTERVAL_MS: '0', ...env }, undefined, {
    mode: 'embedded',
    config: ocean.config,
    stop: () => ocean.stop(),
  });
  const provider = createRpcProvider(ocean.chain.rpcUrl, ocean.chain.chainId);
  const deployer = new NonceManager(new Wallet(ocean.chain.accounts[0].privateKey, provider));
  const token = new Contract(ocean.config.addresses.Ocean, OCEAN_ABI, deployer);
  const chain = t.app.wallet.chain;
  if (!chain) throw new Error('the app has no wallet chain');
  let funded = 0;
  return {
    t,
    ocean,
    provider,
    treasury: chain.treasuryAddress,
    async newWallet() {
      const wallet = Wallet.createRandom().connect(provider) as unknown as Wallet;
      const funder = new Wallet(ocean.chain.accounts[1 + (funded++ % 3)].privateKey, provider);
      await (await funder.sendTransaction({ to: wallet.address, value: parseEther('1') })).wait();
      return wallet;
    },
    async mintOcean(to, amount) {
      await (await token.mint(to, parseEther(amount))).wait();
    },
    async deposit(wallet, amount) {
      const sent = await (new Contract(ocean.config.addresses.Ocean, OCEAN_ABI, wallet).transfer(chain.treasuryAddress, parseEther(amount)) as Promise<{ wait(): Promise<{ hash: string }> }>);
      return (await sent.wait()).hash;
    },
    async oceanBalance(address) {
      return (await new Contract(ocean.config.addresses.Ocean, OCEAN_ABI, provider).balanceOf(address)) as bigint;
    },
    async mine(blocks) {
      for (let i = 0; i < blocks; i++) await ocean.chain.request('evm_mine', []);
    },
    async signIn(wallet) {
      const nonce = await t.app.inject({ method: 'POST', url: '/v1/auth/siwe/nonce', payload: { address: wallet.address } });
      const { message } = nonce.json() as { message: string };
      const res = await t.app.inject({ method: 'POST', url: '/v1/auth/siwe/verify', payload: { message, signature: await wallet.signMessage(message) } });
      if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.body}`);
      const body = res.json() as { token: string; account: { id: string }; created: boolean; claimed_deposits: number };
      return { token: body.token, accountId: body.account.id, created: body.created, claimed: body.claimed_deposits, headers: { authorization: `Bearer ${body.token}` } };
    },
    async stop() {
      provider.destroy();
      await t.close();
      await ocean.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
