// Ocean's Escrow on the real local chain (one chain for the file): the gateway's consumer wallet pays,
// the provider wallet plays the compute node. Amounts are checked to the wei, refusals by their reason,
// and the reconciler brings escrow_payments rows to the chain's truth.
import { eq } from 'drizzle-orm';
import { parseEther } from 'ethers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accounts } from '../../../src/accounts/accounts-schema.js';
import { jobs } from '../../../src/jobs/jobs-schema.js';
import { models } from '../../../src/models/models-schema.js';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { type EscrowPayee, type EscrowPayer, createEscrowPayee, createEscrowPayer, escrowJobIdOf, isEscrowError } from '../../../src/ocean/escrow.js';
import { reconcileEscrow } from '../../../src/ocean/escrow-reconciler.js';
import { escrowPayments } from '../../../src/ocean/escrow-schema.js';
import { ManagedSigner } from '../../../src/ocean/nonce-manager.js';
import { type TestDatabase, createTestDatabase } from '../../helpers/test-database.js';
import { type OceanFixture, advanceChainTime, startOceanFixture } from './ocean-fixture.js';

let fx: OceanFixture;
let tdb: TestDatabase;
let accountId: string;
let payer: EscrowPayer;
let node: EscrowPayee;
let token: string;
let nextJobId = 1n;
const jobId = () => nextJobId++;

async function opcFee(amount: bigint): Promise<bigint> {
  const router = contractInterface('FactoryRouter');
  const raw = await fx.client.provider.call({ to: fx.client.addresses.Router, data: router.encodeFunctionData('getOPCFee', [token]) });
  const [fee] = router.decodeFunctionResult('getOPCFee', raw);
  return (amount * (fee as bigint)) / 10n ** 18n;
}

async function walletBalance(address: string): Promise<bigint> {
  const erc20 = contractInterface('OceanToken');
  const raw = await fx.client.provider.call({ to: token, data: erc20.encodeFunctionData('balanceOf', [address]) });
  return erc20.decodeFunctionResult('balanceOf', raw)[0] as bigint;
}

/** A job on the ocean-node model and its pending escrow payment row; node job ids as ocean-node answers them (<cluster>-<internal id>). */
async function pendingPayment(amount: bigint, nodeJobId: string | null) {
  const db = tdb.database.db;
  const [job] = await db
    .insert(jobs)
    .values({ kind: 'infer', accountId, modelId: 'node-model', weightsSha256: '0'.repeat(64), request: { input: 'x' }, inputTokens: 1, pricePerJob: 0n, pricePer1kTokens: 0n, maxCost: 0n })
    .returning({ id: jobs.id });
  const [row] = await db
    .insert(escrowPayments)
    .values({ jobId: job.id, chainId: fx.client.chainId, escrowAddress: payer.escrowAddress, token, payer: payer.address, payee: node.address, nodeJobId, amount: amount.toString() })
    .returning();
  return row;
}

async function rowOf(id: string) {
  const [row] = await tdb.database.db.select().from(escrowPayments).where(eq(escrowPayments.id, id));
  return row;
}

const reconcile = () => reconcileEscrow({ db: tdb.database.db, payer, token, payees: [node.address] });

beforeAll(async () => {
  tdb = await createTestDatabase();
  const [account] = await tdb.database.db.insert(accounts).values({ name: 'escrow test' }).returning({ id: accounts.id });
  accountId = account.id;
  fx = await startOceanFixture({ client: { wait: { timeoutMs: 15_000, pollMs: 50 } } });
  const escrow = fx.client.addresses.Escrow;
  if (!escrow) throw new Error('the local chain has no Escrow');
  token = fx.client.addresses.Ocean;
  payer = createEscrowPayer(fx.client.consumer, escrow);
  const nodeSigner = new ManagedSigner(fx.ocean.config.providerPrivateKey, fx.client.provider, { chainId: fx.client.chainId, estimateGas: false, wait: { pollMs: 50 } });
  node = createEscrowPayee(nodeSigner, escrow);
});

afterAll(async () => {
  await fx?.stop();
  await tdb?.drop();
});

it('deposits only the shortfall, and a lock then a claim move exact amounts', async () => {
  const walletBefore = await walletBalance(payer.address);
  const first = await payer.ensureAvailable(token, parseEther('10'));
  expect(first.deposited).toBe(parseEther('10'));
  expect(first.tx?.txHash).toMatch(/^0x[0-9a-f]{64}$/);
  // Enough is there: nothing sent.
  expect((await payer.ensureAvailable(token, parseEther('4'))).deposited).toBe(0n);
  // 10 there, 12 wanted: 2 more.
  expect((await payer.ensureAvailable(token, parseEther('12'))).deposited).toBe(parseEther('2'));
  expect(await walletBalance(payer.address)).toBe(walletBefore - parseEther('12'));
  expect(await payer.funds(token)).toEqual({ available: parseEther('12'), locked: 0n });

  await payer.authorize(token, node.address, { maxLockedAmount: parseEther('5'), maxLockSeconds: 600, maxLockCounts: 100 });
  expect(await payer.authorization(token, node.address)).toMatchObject({ maxLockedAmount: parseEther('5'), maxLockSeconds: 600n, currentLocks: 0n });

  const id = jobId();
  const amount = parseEther('3');
  await node.createLock(id, token, payer.address, amount, 300);
  expect(await payer.funds(token)).toEqual({ available: parseEther('9'), locked: amount });
  const [lock] = await payer.locks(token, node.address);
  expect(lock).toMatchObject({ jobId: id, payer: payer.address, payee: node.address, token, amount });

  const cost = parseEther('1.25');
  const nodeBefore = await node.funds(token);
  const claim = await node.claimLock(id, token, payer.address, cost, 'proof-of-job-1');
  expect(claim.gasUsed).toBeGreaterThan(0n);
  // The payer gets back what the job did not cost; the node gets the cost less Ocean's fee.
  expect(await payer.funds(token)).toEqual({ available: parseEther('12') - cost, locked: 0n });
  expect((await node.funds(token)).available - nodeBefore.available).toBe(cost - (await opcFee(cost)));
  expect(await payer.locks(token, node.address)).toEqual([]);
});

it('refuses a lock above the authorization and a claim above the lock with clear errors, sending nothing for them', async () => {
  const nonceBefore = await fx.client.provider.getTransactionCount(node.address);
  const err = await node.createLock(jobId(), token, payer.address, parseEther('6'), 60).catch((e: unknown) => e);
  expect(isEscrowError(err, 'exceeds_max_locked')).toBe(true);
  expect((err as Error).message).toContain('Exceeds maxLockedAmount');
  const tooLong = await node.createLock(jobId(), token, payer.address, 1n, 601).catch((e: unknown) => e);
  expect(isEscrowError(tooLong, 'expiry_too_high')).toBe(true);
  // A claim above the lock, or of a lock that does not exist, is refused; the lock stays claimable.
  const id = jobId();
  await node.createLock(id, token, payer.address, parseEther('1'), 60);
  expect(isEscrowError(await node.claimLock(id, token, payer.address, parseEther('1.5'), '0x').catch((e: unknown) => e), 'amount_too_high')).toBe(true);
  expect(isEscrowError(await node.claimLock(jobId(), token, payer.address, 1n, '0x').catch((e: unknown) => e), 'lock_not_found')).toBe(true);
  await node.claimLock(id, token, payer.address, parseEther('1'), '0x');
  const stranger = createEscrowPayee(fx.client.publisher, payer.escrowAddress);
  expect(isEscrowError(await stranger.createLock(jobId(), token, payer.address, 1n, 60).catch((e: unknown) => e), 'not_authorized')).toBe(true);
  expect(await fx.client.provider.getTransactionCount(node.address)).toBe(nonceBefore + 2);
});

it('a claim after expiry fails (the lock is canceled instead) and an expired lock is refunded exactly', async () => {
  const before = await payer.funds(token);
  const late = jobId();
  const kept = jobId();
  await node.createLocks([
    { jobId: late, token, payer: payer.address, amount: parseEther('1'), expirySeconds: 30 },
    { jobId: kept, token, payer: payer.address, amount: parseEther('2'), expirySeconds: 30 },
  ]);
  expect(await payer.funds(token)).toEqual({ available: before.available - parseEther('3'), locked: parseEther('3') });
  await advanceChainTime(fx, 60);

  const err = await node.claimLock(late, token, payer.address, parseEther('1'), '0x').catch((e: unknown) => e);
  expect(isEscrowError(err, 'lock_expired')).toBe(true);
  expect((err as { txHash?: string }).txHash).toMatch(/^0x/);

  const open = await payer.locks(token, node.address);
  expect(open.map((l) => l.jobId)).toEqual([kept]);
  const { canceled, tx } = await payer.cancelExpired(open);
  expect(canceled.map((l) => l.jobId)).toEqual([kept]);
  expect(tx?.txHash).toMatch(/^0x/);
  expect(await payer.funds(token)).toEqual(before);
  expect(await payer.locks(token, node.address)).toEqual([]);

  const events = await payer.events(0);
  expect(events.filter((e) => e.jobId === late).map((e) => e.kind)).toEqual(['lock', 'canceled']);
  expect(events.filter((e) => e.jobId === kept).map((e) => e.kind)).toEqual(['lock', 'canceled']);
});

it('16 locks sent at once all land (gas sized for the locks ahead of each), and one claimLocks settles them', async () => {
  const before = await payer.funds(token);
  const ids = Array.from({ length: 16 }, jobId);
  const amount = parseEther('0.05');
  await Promise.all(ids.map((id) => node.createLock(id, token, payer.address, amount, 300)));
  expect((await payer.locks(token, node.address)).map((l) => l.jobId).sort((a, b) => Number(a - b))).toEqual(ids);
  await node.claimLocks(ids.map((id) => ({ jobId: id, token, payer: payer.address, amount: amount / 5n, proof: `job-${id}` })));
  expect(await payer.funds(token)).toEqual({ available: before.available - 16n * (amount / 5n), locked: 0n });
});

it('withdraws available funds to the wallet and refuses more than is available', async () => {
  const { available } = await payer.funds(token);
  const wallet = await walletBalance(payer.address);
  await payer.withdraw(token, parseEther('1'));
  expect(await walletBalance(payer.address)).toBe(wallet + parseEther('1'));
  expect((await payer.funds(token)).available).toBe(available - parseEther('1'));
  const err = await payer.withdraw(token, available).catch((e: unknown) => e);
  expect(isEscrowError(err, 'insufficient_funds')).toBe(true);
});

it('a model runs on an Ocean compute node exactly when it names the node', async () => {
  const db = tdb.database.db;
  const model = { name: 'Node model', taskKinds: ['infer'], weightsSha256: '0'.repeat(64), storagePath: '/nonexistent', contextLength: 8, architecture: {}, pricePerJob: 0n, pricePer1kTokens: 0n };
  await expect(db.insert(models).values({ ...model, id: 'no-url', computeBackend: 'ocean-node' })).rejects.toThrow();
  await expect(db.insert(models).values({ ...model, id: 'url-but-local', computeNodeUrl: 'http://node.invalid' })).rejects.toThrow();
  await db.insert(models).values({ ...model, id: 'node-model', computeBackend: 'ocean-node', computeNodeUrl: 'http://node.invalid' });
  const [local] = await db.insert(models).values({ ...model, id: 'local-model' }).returning();
  expect(local.computeBackend).toBe('marketplace');
});

it('the reconciler marks rows locked, claimed (0 included) and canceled from the chain, refunds expired locks, and is idempotent', async () => {
  await payer.ensureAvailable(token, parseEther('5'));
  const before = await payer.funds(token);
  const locked = await pendingPayment(parseEther('1'), 'cluster-node-job-a');
  const partial = await pendingPayment(parseEther('1'), 'cluster-node-job-b');
  const expiring = await pendingPayment(parseEther('0.5'), 'cluster-node-job-c');
  const zero = await pendingPayment(parseEther('0.2'), 'cluster-node-job-e');
  const nodeDown = await pendingPayment(parseEther('0.1'), 'cluster-node-job-d');
  await node.createLocks([
    { jobId: escrowJobIdOf('node-job-a'), token, payer: payer.address, amount: parseEther('1'), expirySeconds: 300 },
    { jobId: escrowJobIdOf('node-job-b'), token, payer: payer.address, amount: parseEther('1'), expirySeconds: 300 },
    { jobId: escrowJobIdOf('node-job-c'), token, payer: payer.address, amount: parseEther('0.5'), expirySeconds: 30 },
    { jobId: escrowJobIdOf('node-job-e'), token, payer: payer.address, amount: parseEther('0.2'), expirySeconds: 300 },
  ]);
  const claims = await node.claimLocks([
    { jobId: escrowJobIdOf('node-job-b'), token, payer: payer.address, amount: parseEther('0.4'), proof: 'b' },
    { jobId: escrowJobIdOf('node-job-e'), token, payer: payer.address, amount: 0n, proof: 'e' },
  ]);

  expect(await reconcile()).toEqual({ locked: 2, claimed: 2, canceled: 0, orphansCanceled: 0, orphans: [] });
  expect(await rowOf(locked.id)).toMatchObject({ status: 'locked', escrowJobId: escrowJobIdOf('node-job-a').toString(), lockTx: expect.stringMatching(/^0x/) });
  expect(await rowOf(partial.id)).toMatchObject({ status: 'claimed', claimedAmount: parseEther('0.4').toString(), claimTx: claims.txHash });
  expect(await rowOf(zero.id)).toMatchObject({ status: 'claimed', claimedAmount: '0', claimTx: claims.txHash });
  expect(await rowOf(nodeDown.id)).toMatchObject({ status: 'pending', escrowJobId: null });

  await advanceChainTime(fx, 60);
  expect(await reconcile()).toEqual({ locked: 0, claimed: 0, canceled: 1, orphansCanceled: 0, orphans: [] });
  const canceled = await rowOf(expiring.id);
  expect(canceled).toMatchObject({ status: 'canceled', cancelTx: expect.stringMatching(/^0x/) });
  // Only what was claimed (0.4) and what is still locked (1) left the payer's available funds.
  expect(await payer.funds(token)).toEqual({ available: before.available - parseEther('1.4'), locked: parseEther('1') });

  const snapshot = await tdb.database.db.select().from(escrowPayments);
  expect(await reconcile()).toEqual({ locked: 0, claimed: 0, canceled: 0, orphansCanceled: 0, orphans: [] });
  expect(await tdb.database.db.select().from(escrowPayments)).toEqual(snapshot);

  await node.claimLock(escrowJobIdOf('node-job-a'), token, payer.address, parseEther('1'), 'a');
  expect(await reconcile()).toMatchObject({ claimed: 1 });
  expect(await rowOf(locked.id)).toMatchObject({ status: 'claimed', claimedAmount: parseEther('1').toString() });
});

it('a lock whose id we never learned is found by node, amount and time; an orphan lock is canceled after expiry', async () => {
  const before = await payer.funds(token);
  const lost = await pendingPayment(parseEther('0.7'), null);
  const lostId = escrowJobIdOf('lost-on-timeout');
  const strangerId = escrowJobIdOf('nobody-asked');
  await node.createLocks([
    { jobId: lostId, token, payer: payer.address, amount: parseEther('0.7'), expirySeconds: 30 },
    { jobId: strangerId, token, payer: payer.address, amount: parseEther('0.3'), expirySeconds: 30 },
  ]);
  const first = await reconcile();
  expect(first).toMatchObject({ locked: 1, canceled: 0, orphansCanceled: 0 });
  expect(first.orphans.map((l) => l.jobId)).toEqual([strangerId]);
  expect(await rowOf(lost.id)).toMatchObject({ status: 'locked', escrowJobId: lostId.toString() });

  await advanceChainTime(fx, 60);
  expect(await reconcile()).toEqual({ locked: 0, claimed: 0, canceled: 1, orphansCanceled: 1, orphans: [] });
  expect(await rowOf(lost.id)).toMatchObject({ status: 'canceled' });
  expect(await payer.funds(token)).toEqual(before);
  expect(await payer.locks(token, node.address)).toEqual([]);
  expect(await reconcile()).toEqual({ locked: 0, claimed: 0, canceled: 0, orphansCanceled: 0, orphans: [] });
});
