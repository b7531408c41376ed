// Credits bought on chain and earnings paid out on chain, on a real local chain: a deposit credited
// once however often it is reported, after restarts and reorgs; an unbound sender's deposit held
// until it signs in; payouts settled with their tx hash, released when the transfer fails, idempotent,
// never more than the earnings under concurrency; and the reconciliation clean after all of it.
import { and, eq, sql } from 'drizzle-orm';
import { parseEther, type Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccountBooks } from '../../../src/credits/ledger-books.js';
import { ledgerTransactions } from '../../../src/credits/ledger-schema.js';
import { createDepositWatcher } from '../../../src/wallet/deposit-watcher.js';
import { reconcileCommand } from '../../../src/wallet/reconcile-command.js';
import { walletDeposits } from '../../../src/wallet/wallet-schema.js';
import { createFundedAccount } from '../../helpers/test-app.js';
import { startWalletFixture, type WalletFixture } from './wallet-fixture.js';

const CREDIT = 1_000_000; // micro-credits per OCEAN at the default rate
let f: WalletFixture;
let alice: Wallet;
let aliceHeaders: { authorization: string };
let aliceAccount: string;

beforeAll(async () => {
  f = await startWalletFixture({ DEPOSIT_CONFIRMATIONS: '3' });
  alice = await f.newWallet();
  await f.mintOcean(alice.address, '100');
  const session = await f.signIn(alice);
  aliceHeaders = session.headers;
  aliceAccount = session.accountId;
});
afterAll(async () => {
  expect(f.t.app.contractViolations).toEqual([]);
  await f?.stop();
});

const app = () => f.t.app;
const tick = () => app().wallet.deposits!.tick();
const balance = async (headers: { authorization: string }) => (await app().inject({ method: 'GET', url: '/v1/account', headers })).json() as { balance: number; earnings: number };
const deposits = async (headers: { authorization: string }) =>
  ((await app().inject({ method: 'GET', url: '/v1/account/deposits', headers })).json() as { data: { tx_hash: string; status: string; confirmations: number; micro_credits: number }[] }).data;
const depositRows = (txHash: string) => app().db.select().from(walletDeposits).where(eq(walletDeposits.txHash, txHash));
const ledgerKinds = async (accountId: string, kind: 'deposit' | 'payout_settle' | 'payout_release' | 'payout_hold' | 'deposit_reversal') =>
  app().db.select().from(ledgerTransactions).where(and(eq(ledgerTransactions.accountId, accountId), eq(ledgerTransactions.kind, kind)));

describe('deposits', () => {
  it('shows a deposit pending, credits it after 3 confirmations, once, however many watchers report it', async () => {
    const tx = await f.deposit(alice, '2');
    expect((await tick()).seen).toBe(1);
    const pending = (await deposits(aliceHeaders)).find((d) => d.tx_hash === tx);
    expect(pending).toMatchObject({ status: 'pending', confirmations: 1, micro_credits: 2 * CREDIT });
    expect((await balance(aliceHeaders)).balance).toBe(0);

    await f.mine(2);
    // A second watcher (another replica, or this one restarted) from a cursor reset to the start: both report it.
    const replica = createDepositWatcher({ db: app().db, chain: app().wallet.chain!, log: app().log });
    await app().db.execute(sql`UPDATE chain_cursors SET block_number = 0, block_hash = '0x00'`);
    const [here, there, thereAgain] = await Promise.all([tick(), replica.tick(), replica.tick()]);
    expect(thereAgain).toBe(there); // one watcher's overlapping calls share its pass
    expect(here.credited + there.credited).toBe(1);
    await tick();
    expect((await balance(aliceHeaders)).balance).toBe(2 * CREDIT);
    expect(await ledgerKinds(aliceAccount, 'deposit')).toHaveLength(1);
    expect((await depositRows(tx))[0]).toMatchObject({ status: 'credited', accountId: aliceAccount });
    const ledger = (await app().inject({ method: 'GET', url: '/v1/account/ledger', headers: aliceHeaders })).json().data;
    expect(ledger[0]).toMatchObject({ kind: 'deposit', book: 'available', amount: 2 * CREDIT });
    expect(ledger[0].reason).toContain(tx);
  });

  it('survives a restart: a new watcher continues from the cursor in Postgres', async () => {
    const before = await app().wallet.deposits!.lastHead();
    const tx = await f.deposit(alice, '1');
    await f.mine(2);
    const restarted = createDepositWatcher({ db: app().db, chain: app().wallet.chain!, log: app().log });
    const report = await restarted.tick();
    expect(report).toMatchObject({ seen: 1, credited: 1, reorg: false });
    expect((await restarted.lastHead())!).toBeGreaterThan(before!);
    expect((await depositRows(tx))[0].status).toBe('credited');
    expect((await balance(aliceHeaders)).balance).toBe(3 * CREDIT);
  });

  it('never credits a pending deposit a reorg removed, and reverses a credited one', async () => {
    const chain = f.ocean.chain;
    const snapshot = await chain.request('evm_snapshot', []);
    const dropped = await f.deposit(alice, '5');
    await tick();
    expect((await depositRows(dropped))[0].status).toBe('pending');
    await chain.request('evm_revert', [snapshot]);
    await f.mine(4);
    const report = await tick();
    expect(report).toMatchObject({ reorg: true, dropped: 1, credited: 0 });
    expect((await depositRows(dropped))[0].status).toBe('dropped');
    expect((await balance(aliceHeaders)).balance).toBe(3 * CREDIT);

    const snapshot2 = await chain.request('evm_snapshot', []);
    const reversed = await f.deposit(alice, '4');
    await f.mine(2);
    expect((await tick()).credited).toBe(1);
    expect((await balance(aliceHeaders)).balance).toBe(7 * CREDIT);
    await chain.request('evm_revert', [snapshot2]);
    await f.mine(6);
    expect(await tick()).toMatchObject({ reorg: true, reversed: 1 });
    expect((await depositRows(reversed))[0].status).toBe('reversed');
    expect((await balance(aliceHeaders)).balance).toBe(3 * CREDIT);
    expect(await ledgerKinds(aliceAccount, 'deposit_reversal')).toHaveLength(1);
  });

  it('holds a deposit from an unbound address for the operator, and credits it when the sender signs in', async () => {
    const bob = await f.newWallet();
    await f.mintOcean(bob.address, '10');
    const tx = await f.deposit(bob, '3');
    await f.mine(2);
    expect((await tick()).unclaimed).toBe(1);
    const listed = await app().inject({ method: 'GET', url: '/v1/admin/deposits?status=unclaimed', headers: f.t.operatorHeaders });
    expect(listed.json().data).toEqual([expect.objectContaining({ tx_hash: tx, from: bob.address, status: 'unclaimed', micro_credits: 3 * CREDIT, account_id: null })]);
    const session = await f.signIn(bob);
    expect(session).toMatchObject({ created: true, claimed: 1 });
    expect((await balance(session.headers)).balance).toBe(3 * CREDIT);
    expect((await deposits(session.headers))[0]).toMatchObject({ tx_hash: tx, status: 'credited' });
  });
});

describe('payouts', () => {
  /** Pays `amount` micro-credits of job revenue into the account's earnings, as a job's settlement does. */
  async function earn(accountId: string, amount: number) {
    const consumer = await createFundedAccount(f.t, { credits: amount });
    const { holdId } = await app().ledger.hold({ accountId: consumer.account.id, amount: BigInt(amount), idempotencyKey: `earn:${accountId}:${Math.random()}` });
    const books = await ensureAccountBooks(app().db, accountId);
    await app().ledger.settle({ holdId, capture: BigInt(amount), payees: [{ bookId: books.earnings, amount: BigInt(amount) }] });
  }
  const payout = (amount: number, key?: string) =>
    app().inject({ method: 'POST', url: '/v1/account/payouts', headers: { ...aliceHeaders, ...(key ? { 'idempotency-key': key } : {}) }, payload: { amount } });
  const getPayout = async (id: string) => (await app().inject({ method: 'GET', url: `/v1/account/payouts/${id}`, headers: aliceHeaders })).json();

  it('releases the hold when the transfer fails on chain (the treasury is short)', async () => {
    await earn(aliceAccount, 20 * CREDIT);
    const treasuryOcean = await f.oceanBalance(f.treasury);
    const tooMuch = Number(treasuryOcean / 10n ** 12n) + CREDIT;
    const res = await payout(tooMuch);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ status: 'queued', amount: tooMuch, to: alice.address });
    expect((await balance(aliceHeaders)).earnings).toBe(20 * CREDIT - tooMuch);
    expect(await app().wallet.payouts!.tick()).toMatchObject({ signed: 1, released: 1 });
    const failed = await getPayout(res.json().id);
    expect(failed).toMatchObject({ status: 'released', error: expect.stringMatching(/reverted/) });
    expect(failed.tx_hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await balance(aliceHeaders)).earnings).toBe(20 * CREDIT);
    expect(await f.oceanBalance(f.treasury)).toBe(treasuryOcean);
  });

  it('pays out: the OCEAN arrives, the payout settles with its tx hash in the ledger, and a retry pays once', async () => {
    await f.deposit(alice, '30'); // the treasury now holds enough
    const before = await f.oceanBalance(alice.address);
    const first = await payout(CREDIT, 'withdraw-1');
    const retry = await payout(CREDIT, 'withdraw-1');
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json().id).toBe(first.json().id);
    expect((await app().inject({ method: 'POST', url: '/v1/account/payouts', headers: { ...aliceHeaders, 'idempotency-key': 'withdraw-1' }, payload: { amount: 2 } })).statusCode).toBe(422);
    // Signed and sent at once; settled only with its 3 confirmations (the deposit's setting).
    expect(await app().wallet.payouts!.tick()).toMatchObject({ signed: 1, settled: 0 });
    expect((await getPayout(first.json().id)).status).toBe('sent');
    await f.mine(2);
    expect(await app().wallet.payouts!.tick()).toMatchObject({ signed: 0, settled: 1 });
    const settled = await getPayout(first.json().id);
    expect(settled).toMatchObject({ status: 'settled', amount: CREDIT, amount_wei: parseEther('1').toString() });
    expect(await f.oceanBalance(alice.address)).toBe(before + parseEther('1'));
    expect(await ledgerKinds(aliceAccount, 'payout_settle')).toHaveLength(1);
    const history = (await app().inject({ method: 'GET', url: '/v1/account/ledger?limit=5', headers: aliceHeaders })).json().data;
    expect(history.find((e: { kind: string }) => e.kind === 'payout_settle').reason).toContain(settled.tx_hash);
    expect((await balance(aliceHeaders)).earnings).toBe(19 * CREDIT);
  });

  it('never pays out more than the earnings, however many withdrawals race; those due together share one transfer', async () => {
    const before = await f.oceanBalance(alice.address);
    const answers = await Promise.all(Array.from({ length: 24 }, () => payout(CREDIT)));
    const accepted = answers.filter((r) => r.statusCode === 202);
    expect(accepted).toHaveLength(19);
    expect(answers.filter((r) => r.statusCode === 402)).toHaveLength(5);
    expect((await balance(aliceHeaders)).earnings).toBe(0);
    expect(await app().wallet.payouts!.tick()).toMatchObject({ signed: 19, settled: 0 });
    await f.mine(2);
    expect(await app().wallet.payouts!.tick()).toMatchObject({ settled: 19 });
    const hashes = new Set(await Promise.all(accepted.map(async (r) => (await getPayout(r.json().id)).tx_hash)));
    expect(hashes.size).toBe(1);
    expect(await f.oceanBalance(alice.address)).toBe(before + parseEther('19'));
    const refused = await payout(CREDIT);
    expect(refused.json()).toMatchObject({ status: 402, code: 'insufficient_credit' });
  });

  it('refuses a payout without a bound address, and below the minimum', async () => {
    const operatorMade = await createFundedAccount(f.t);
    const none = await app().inject({ method: 'POST', url: '/v1/account/payouts', headers: operatorMade.headers, payload: { amount: CREDIT } });
    expect(none.statusCode).toBe(409);
    expect((await payout(1)).json()).toMatchObject({ status: 400, field: 'body.amount' });
  });
});

describe('reconciliation', () => {
  it('finds the ledger and the chain in agreement after the mixed run, from the route and the CLI; and sees a tampered deposit', async () => {
    await tick();
    const report = (await app().inject({ method: 'GET', url: '/v1/admin/wallet/reconciliation', headers: f.t.operatorHeaders })).json();
    expect(report.differences).toEqual([]);
    expect(report.deposits).toMatchObject({ credited: 4, unclaimed: 0, credited_micro_credits: String(36 * CREDIT), ledger_micro_credits: String(36 * CREDIT) });
    expect(report.payouts).toMatchObject({ settled: 20, settled_micro_credits: String(20 * CREDIT), ledger_micro_credits: String(20 * CREDIT), in_flight: 0 });

    // The CLI command (posthuman reconcile-chain), reading Postgres and the chain itself.
    let printed = '';
    const status = await reconcileCommand([], {
      env: { DATABASE_URL: f.t.testDb.url, CHAIN_RPC_URL: f.ocean.chain.rpcUrl, POSTHUMAN_DATA_DIR: f.t.config.dataDir, DEPOSIT_CONFIRMATIONS: '3' },
      out: { write: (text: string) => (printed += text) },
    });
    expect(printed).toMatch(/settled 20 \(20000000 µc; ledger 20000000 µc\)/);
    expect(printed).toMatch(/no differences/);
    expect(status).toBe(0);

    const [row] = await app().db.select().from(walletDeposits).where(eq(walletDeposits.status, 'credited')).limit(1);
    await app().db.update(walletDeposits).set({ amountWei: row.amountWei + 1n }).where(eq(walletDeposits.id, row.id));
    const tampered = (await app().inject({ method: 'GET', url: '/v1/admin/wallet/reconciliation', headers: f.t.operatorHeaders })).json();
    expect(tampered.differences).toEqual([expect.stringContaining(`deposit ${row.id}`)]);
    expect(await reconcileCommand(['--json'], { env: { DATABASE_URL: f.t.testDb.url, CHAIN_RPC_URL: f.ocean.chain.rpcUrl, POSTHUMAN_DATA_DIR: f.t.config.dataDir, DEPOSIT_CONFIRMATIONS: '3' }, out: { write: () => true } })).toBe(1);
    await app().db.update(walletDeposits).set({ amountWei: row.amountWei }).where(eq(walletDeposits.id, row.id));
  });
});
