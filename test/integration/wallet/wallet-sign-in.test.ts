// Sign-In with Ethereum on a real local chain: a good sign-in creates the account and a session that
// manages its keys; replayed, expired, wrong-domain, wrong-chain and wrongly signed messages are
// refused; an EIP-1271 contract wallet signs in when its contract accepts; an operator-made account binds a wallet.
import { getCreateAddress, hashMessage, Wallet } from 'ethers';
import type { InjectOptions } from 'fastify';
import { SiweMessage } from 'siwe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedAccount } from '../../helpers/test-app.js';
import { startWalletFixture, type WalletFixture } from './wallet-fixture.js';

let f: WalletFixture;
beforeAll(async () => {
  f = await startWalletFixture();
});
afterAll(async () => {
  expect(f.t.app.contractViolations).toEqual([]);
  await f?.stop();
});

const inject = (opts: InjectOptions) => f.t.app.inject(opts);

async function freshMessage(address: string, change: Partial<SiweMessage> = {}) {
  const res = await inject({ method: 'POST', url: '/v1/auth/siwe/nonce', payload: {} });
  expect(res.statusCode).toBe(201);
  const n = res.json() as { nonce: string; domain: string; uri: string; chain_id: number };
  return new SiweMessage({ domain: n.domain, address, uri: n.uri, version: '1', chainId: n.chain_id, nonce: n.nonce, issuedAt: new Date().toISOString(), ...change }).prepareMessage();
}

const verify = (message: string, signature: string) => inject({ method: 'POST', url: '/v1/auth/siwe/verify', payload: { message, signature } });

/** A contract wallet whose isValidSignature accepts exactly one message hash (EIP-1271), from hand-written bytecode. */
function acceptingWalletBytecode(acceptedHash: string): string {
  const runtime =
    '600435' + // CALLDATALOAD(4): the hash argument
    `7f${acceptedHash.slice(2)}` + // PUSH32 the accepted hash
    '14602d57' + // EQ, JUMPI to 0x2d
    '60206000f3' + // else return 32 zero bytes
    '5b631626ba7e60e01b60005260206000f3'; // 0x2d: return the magic value 0x1626ba7e, left-aligned
  const length = (runtime.length / 2).toString(16).padStart(2, '0');
  return `0x60${length}600c60003960${length}6000f3${runtime}`;
}

describe('POST /v1/auth/siwe/verify', () => {
  it('signs in: creates the account once, and the session makes and revokes its keys', async () => {
    const wallet = Wallet.createRandom();
    const first = await f.signIn(wallet as unknown as Wallet);
    expect(first.created).toBe(true);
    const again = await f.signIn(wallet as unknown as Wallet);
    expect(again).toMatchObject({ created: false, accountId: first.accountId });

    const account = await inject({ method: 'GET', url: '/v1/account', headers: first.headers });
    expect(account.json()).toMatchObject({ id: first.accountId, name: wallet.address, balance: 0 });
    const made = await inject({ method: 'POST', url: '/v1/account/keys', headers: first.headers, payload: { name: 'cli' } });
    expect(made.statusCode).toBe(201);
    expect(made.json()).toMatchObject({ scopes: ['infer', 'evaluate', 'finetune', 'keys'], rate_limit_per_minute: 600, spend_cap: null });
    const key = made.json() as { id: string; key: string };
    const viaKey = await inject({ method: 'GET', url: '/v1/account', headers: { authorization: `Bearer ${key.key}` } });
    expect(viaKey.json().id).toBe(first.accountId);
    expect((await inject({ method: 'DELETE', url: `/v1/account/keys/${key.id}`, headers: first.headers })).statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: '/v1/account', headers: { authorization: `Bearer ${key.key}` } })).statusCode).toBe(401);
  });

  it('refuses a replayed message: the nonce works once', async () => {
    const wallet = Wallet.createRandom();
    const message = await freshMessage(wallet.address);
    const signature = await wallet.signMessage(message);
    expect((await verify(message, signature)).statusCode).toBe(200);
    const replay = await verify(message, signature);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().detail).toMatch(/nonce is unknown, already used or expired/);
  });

  it('refuses an expired message, a wrong domain, a wrong chain and a wrong signer', async () => {
    const wallet = Wallet.createRandom();
    const cases: [Partial<SiweMessage>, RegExp][] = [
      [{ expirationTime: new Date(Date.now() - 1000).toISOString(), issuedAt: new Date(Date.now() - 60_000).toISOString() }, /expired/],
      [{ domain: 'evil.example.com' }, /domain "evil.example.com"/],
      [{ uri: 'https://evil.example.com/login' }, /not on this gateway's origin/],
      [{ chainId: 1 }, /for chain 1; this gateway signs in on chain 8996/],
    ];
    for (const [change, reason] of cases) {
      const message = await freshMessage(wallet.address, change);
      const res = await verify(message, await wallet.signMessage(message));
      expect(res.statusCode, JSON.stringify(change)).toBe(401);
      expect(res.json()).toMatchObject({ code: 'unauthorized', field: 'body.message' });
      expect(res.json().detail).toMatch(reason);
    }
    const message = await freshMessage(wallet.address);
    const forged = await verify(message, await Wallet.createRandom().signMessage(message));
    expect(forged.statusCode).toBe(401);
    expect(forged.json().detail).toMatch(/signature does not match/);
    // The refusals consumed nothing: the right signature on that same message still signs in.
    expect((await verify(message, await wallet.signMessage(message))).statusCode).toBe(200);
    const garbage = await verify('not a siwe message', '0x1234');
    expect(garbage.statusCode).toBe(400);
  });

  it('accepts an EIP-1271 contract wallet whose contract says yes, and refuses one that says no', async () => {
    const deployer = await f.newWallet();
    const nonce = await deployer.getNonce();
    const contractAddress = getCreateAddress({ from: deployer.address, nonce });
    const message = await freshMessage(contractAddress);
    await (await deployer.sendTransaction({ data: acceptingWalletBytecode(hashMessage(message)) })).wait();
    // Any signature: the contract decides; an EOA's signature here recovers to someone else.
    const signature = await Wallet.createRandom().signMessage(message);
    const res = await verify(message, signature);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().address).toBe(contractAddress);

    const other = await freshMessage(contractAddress);
    const refused = await verify(other, await Wallet.createRandom().signMessage(other));
    expect(refused.statusCode).toBe(401);
  });
});

describe('wallet sessions', () => {
  it('are refused where they do not apply, and when tampered with', async () => {
    const session = await f.signIn(Wallet.createRandom() as unknown as Wallet);
    const infer = await inject({ method: 'POST', url: '/v1/infer', headers: session.headers, payload: { model: 'x', input: 'y' } });
    expect(infer.statusCode).toBe(401);
    const [h, p, s] = session.token.split('.');
    const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await inject({ method: 'GET', url: '/v1/account', headers: { authorization: `Bearer ${tampered}` } })).statusCode).toBe(401);
    const admin = await inject({ method: 'GET', url: '/v1/admin/deposits', headers: session.headers });
    expect(admin.statusCode).toBe(401);
  });
});

describe('POST /v1/account/wallet', () => {
  it('binds a wallet to an operator-made account once; an address bound elsewhere is a 409', async () => {
    const { account, headers } = await createFundedAccount(f.t);
    const wallet = Wallet.createRandom();
    const message = await freshMessage(wallet.address);
    const bind = await inject({ method: 'POST', url: '/v1/account/wallet', headers, payload: { message, signature: await wallet.signMessage(message) } });
    expect(bind.statusCode, bind.body).toBe(201);
    expect(bind.json()).toMatchObject({ address: wallet.address, account_id: account.id });
    // Signing in with it now opens that same account.
    expect((await f.signIn(wallet as unknown as Wallet)).accountId).toBe(account.id);

    const taken = Wallet.createRandom();
    await f.signIn(taken as unknown as Wallet);
    const other = await createFundedAccount(f.t);
    const again = await freshMessage(taken.address);
    const conflict = await inject({ method: 'POST', url: '/v1/account/wallet', headers: other.headers, payload: { message: again, signature: await taken.signMessage(again) } });
    expect(conflict.statusCode).toBe(409);
  });
});
