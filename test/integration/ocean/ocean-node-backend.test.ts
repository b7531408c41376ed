// Jobs of an open model served by an external Ocean compute node, paid through the real Escrow
// contract on the local chain: the gateway initializes, funds and authorizes, the stand-in node locks,
// runs the transformer and claims. Each failure path (node down, start answer lost, claim never made)
// ends with the customer charged at most once and the escrow rows matching the chain.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRepository } from '../../../src/jobs/job-repository.js';
import type { ModelRow } from '../../../src/models/model-repository.js';
import { setComputeBackend } from '../../../src/models/compute-backend.js';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { createEscrowPayee, createEscrowPayer, type EscrowPayee, type EscrowPayer } from '../../../src/ocean/escrow.js';
import { escrowPayments } from '../../../src/ocean/escrow-schema.js';
import { ManagedSigner } from '../../../src/ocean/nonce-manager.js';
import { decodeReceipt } from '../../../src/receipts/index.js';
import { createInferenceEngine } from '../../../src/runtime/index.js';
import { type ComputeNodeStandin, startComputeNodeStandin } from '../../helpers/ocean-compute-node-standin.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually } from '../../helpers/worker-process.js';

let t: TestApp;
let ocean: EmbeddedOcean;
let model: ModelRow;
let node: ComputeNodeStandin;
let payer: EscrowPayer;
let payeeAddress: string;
let nodePayee: EscrowPayee;
let token: string;
let customer: Awaited<ReturnType<typeof createFundedAccount>>;
const CREDITS = 1_000_000;
const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-ocean-node-'));

beforeAll(async () => {
  ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  // A short node timeout (a start whose answer is lost fails the job in 1.5 s); the gateway's own
  // escrow reconcile every 200 ms is what refunds expired locks here.
  const env = { POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', OCEAN_NODE_TIMEOUT_MS: '1500', OCEAN_NODE_POLL_MS: '50', OCEAN_NODE_RECONCILE_MS: '200' };
  t = await createTestApp(env, undefined, {
    mode: 'embedded',
    config: ocean.config,
    stop: () => ocean.stop(),
  });
  const client = t.app.ocean!.client;
  token = client.addresses.Ocean;
  model = await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t, 'open-gpt2'));
  // The node's own wallet: a funded dev account of the local chain, its own nonces.
  const nodeSigner = new ManagedSigner(ocean.chain.accounts[3].privateKey, client.provider, { chainId: client.chainId });
  const payee = createEscrowPayee(nodeSigner, client.addresses.Escrow!);
  nodePayee = payee;
  payeeAddress = payee.address;
  node = await startComputeNodeStandin({ chainId: client.chainId, escrowAddress: client.addresses.Escrow!, token, payee, models: new Map([[model.did!, model.storagePath]]) });
  model = await setComputeBackend(t.app.db, 'open-gpt2', { backend: 'ocean-node', nodeUrl: node.url });
  // Reads only: the gateway's consumer wallet as seen in the escrow.
  payer = createEscrowPayer(client.consumer, client.addresses.Escrow!);
  customer = await createFundedAccount(t, { credits: CREDITS, scopes: ['infer', 'evaluate'] });
});

afterAll(async () => {
  await node?.close();
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
  await ocean?.stop();
});

const json = (res: { body: string }) => JSON.parse(res.body);
const infer = (input: string, prefer = 'wait=30') =>
  t.app.inject({
    method: 'POST',
    url: '/v1/infer',
    headers: { ...customer.headers, prefer },
    payload: { model: 'open-gpt2', input, parameters: { max_new_tokens: 4 } },
  });
const balance = async () => BigInt(json(await t.app.inject({ method: 'GET', url: '/v1/account', headers: customer.headers })).balance);
const paymentOf = async (jobId: string) => (await t.app.db.select().from(escrowPayments).where(eq(escrowPayments.jobId, jobId)))[0];
const paymentBecomes = (jobId: string, status: string) => eventually(async () => ((await paymentOf(jobId))?.status === status ? paymentOf(jobId) : undefined), 15_000);

/** Moves chain time past every lock's expiry (the stand-in's locks last 660 s). */
async function expireLocks() {
  await ocean.chain.request('evm_increaseTime', [700]);
  await ocean.chain.request('evm_mine', []);
}

/** Rows and chain agree: every claimed row has its Claimed event (same amount and tx), every canceled one its Canceled. */
async function expectRowsMatchChain() {
  const events = await payer.events(0);
  const rows = await t.app.db.select().from(escrowPayments);
  for (const row of rows) {
    if (!row.escrowJobId) continue;
    const mine = events.filter((e) => e.jobId === BigInt(row.escrowJobId!) && e.payee === row.payee);
    const lock = mine.find((e) => e.kind === 'lock');
    if (lock) expect({ amount: row.amount, lockTx: row.lockTx }).toEqual({ amount: lock.amount.toString(), lockTx: lock.txHash });
    const end = mine.find((e) => e.kind !== 'lock');
    if (row.status === 'claimed') expect({ claimed: row.claimedAmount, tx: row.claimTx }).toEqual({ claimed: end?.amount.toString(), tx: end?.txHash });
    if (row.status === 'canceled') expect(end).toMatchObject({ kind: 'canceled', txHash: row.cancelTx });
    if (row.status === 'locked') expect(end).toBeUndefined();
  }
  // What the escrow holds locked for us is exactly what our locked rows say.
  const locked = rows.filter((r) => r.status === 'locked').reduce((sum, r) => sum + BigInt(r.amount), 0n);
  expect((await payer.funds(token)).locked).toBe(locked);
}

describe('a model served by an Ocean compute node', () => {
  it('refuses the node backend for an owner-uploaded (proprietary) model', async () => {
    await registerTinyModel(t, 'owned-gpt2', customer.account.id);
    await expect(setComputeBackend(t.app.db, 'owned-gpt2', { backend: 'ocean-node', nodeUrl: node.url })).rejects.toMatchObject({ code: 'forbidden' });
    expect((await t.app.modelRepository.find('owned-gpt2'))?.computeBackend).toBe('marketplace');
    // Even flagged behind the registry's back, the gateway refuses to send its jobs to a node.
    await t.app.db.execute(sql`UPDATE models SET compute_backend = 'ocean-node', compute_node_url = ${node.url} WHERE id = 'owned-gpt2'`);
    const res = await t.app.inject({ method: 'POST', url: '/v1/infer', headers: customer.headers, payload: { model: 'owned-gpt2', input: 'x y', parameters: { max_new_tokens: 1 } } });
    expect(res.statusCode).toBe(503);
    expect(node.requests).toEqual([]);
  });

  it('runs the job on the node: its transformer output, the customer charged once, the lock claimed as the chain says', async () => {
    const before = await balance();
    const res = await infer('The node computes');
    expect(res.statusCode).toBe(200);
    const job = json(res);
    expect(job).toMatchObject({ status: 'succeeded', model: 'open-gpt2', order: { chain_id: 8996 } });
    // The same greedy decoding here gives the same text: a real transformer ran on the node.
    const engine = await createInferenceEngine({ modelDir: model.storagePath });
    const local = await engine.generate({ input: 'The node computes', maxNewTokens: 4 });
    await engine.close();
    expect(job.output).toBe(local.output);
    expect(job.cost).toBeGreaterThan(0);
    expect(await balance()).toBe(before - BigInt(job.cost));

    const row = await paymentOf(job.id);
    const nodeJob = node.job(row.nodeJobId!);
    expect(nodeJob).toBeDefined();
    expect(row).toMatchObject({ status: 'claimed', payee: payeeAddress, lockTx: nodeJob!.lockTx, claimTx: nodeJob!.claimTx, escrowJobId: nodeJob!.escrowJobId.toString() });
    expect(BigInt(row.claimedAmount!)).toBe(nodeJob!.claimedAmount);
    expect(BigInt(row.claimedAmount!)).toBeLessThan(BigInt(row.amount));
    await expectRowsMatchChain();

    // The receipt says who ran it and how it was paid, and claims no weights it cannot prove.
    const { payload } = decodeReceipt(job.receipt.jws);
    expect(payload.worker).toMatchObject({ id: 'ocean-node-relay', runtime: { name: 'ocean-node' } });
    expect(payload.served_by).toEqual({
      backend: 'ocean-node',
      node: { url: node.url, address: payeeAddress, job_id: row.nodeJobId },
      escrow: { chain_id: 8996, contract: payer.escrowAddress, token, lock_tx: row.lockTx, claim_tx: row.claimTx },
    });
    const verified = json(await t.app.inject({ method: 'POST', url: '/v1/receipts/verify', headers: customer.headers, payload: { receipt: job.receipt.jws } }));
    const check = (name: string) => verified.checks.find((c: { check: string }) => c.check === name);
    expect(check('signature').ok).toBe(true);
    expect(check('attestation').ok).toBe(true);
    expect(check('weights')).toMatchObject({ ok: false, detail: expect.stringContaining(`not proven: Ocean compute node ${payeeAddress}`) });
    expect(verified.ok).toBe(false);
  });

  it('runs several jobs at once: each locked and claimed once, each customer charge once', async () => {
    const before = await balance();
    const jobs = (await Promise.all(['one', 'two', 'three', 'four'].map((w) => infer(`at once ${w}`)))).map(json);
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(await balance()).toBe(before - jobs.reduce((sum, j) => sum + BigInt(j.cost), 0n));
    const rows = await Promise.all(jobs.map((j) => paymentOf(j.id)));
    expect(rows.map((r) => r.status)).toEqual(['claimed', 'claimed', 'claimed', 'claimed']);
    expect(new Set(rows.map((r) => r.escrowJobId)).size).toBe(4);
    await expectRowsMatchChain();
  });

  it('evaluates on the node too, and a node that claims nothing leaves the whole lock to the gateway', async () => {
    const before = await balance();
    const nodeFunds = (await nodePayee.funds(token)).available;
    node.faults.claimZero = true;
    let job: { id: string; status: string; cost: number; loss: number };
    try {
      job = json(await t.app.inject({ method: 'POST', url: '/v1/evaluate', headers: { ...customer.headers, prefer: 'wait=30' }, payload: { model: 'open-gpt2', texts: ['scored on a node'] } }));
    } finally {
      node.faults.claimZero = false;
    }
    const engine = await createInferenceEngine({ modelDir: model.storagePath });
    const local = await engine.evaluate({ texts: ['scored on a node'] });
    await engine.close();
    expect(job).toMatchObject({ status: 'succeeded', loss: local.loss });
    expect(await balance()).toBe(before - BigInt(job.cost));
    const row = await paymentOf(job.id);
    expect(row).toMatchObject({ status: 'claimed', claimedAmount: '0' });
    // The node got nothing; the lock went back whole to the gateway.
    expect((await nodePayee.funds(token)).available).toBe(nodeFunds);
    expect((await payer.funds(token)).locked).toBe(0n);
    await expectRowsMatchChain();
  });

  it('a cancel while the node runs the job stops it there; the customer pays nothing', async () => {
    const before = await balance();
    node.faults.slowJobMs = 10_000;
    let id: string;
    try {
      id = json(await infer('stop me', 'respond-async')).id;
      const nodeJobId = await eventually(async () => (await paymentOf(id))?.nodeJobId);
      const cancel = await t.app.inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: customer.headers });
      expect(cancel.statusCode).toBeLessThan(300);
      await eventually(async () => node.job(nodeJobId)?.stopRequested);
      expect((await t.app.jobService.get(customer.account.id, id))?.status).toBe('cancelled');
    } finally {
      node.faults.slowJobMs = 0;
    }
    await node.idle();
    expect(await balance()).toBe(before);
    // What the node used is the marketplace's cost: claimed on chain, the row following it.
    await paymentBecomes(id, 'claimed');
    await expectRowsMatchChain();
  });

  it('node down: retried, then failed with compute_node_unavailable, nothing charged, no lock', async () => {
    const before = await balance();
    node.faults.down = true;
    try {
      const job = json(await infer('nobody answers'));
      expect(job).toMatchObject({ status: 'failed', error: { code: 'compute_node_unavailable' }, attempts: 3 });
      expect(await balance()).toBe(before);
      expect(await paymentOf(job.id)).toBeUndefined();
    } finally {
      node.faults.down = false;
    }
    await expectRowsMatchChain();
  });

  it("node refuses the start: failed at once with the node's reason kept in the log, nothing charged, the row failed", async () => {
    const before = await balance();
    const locks = (await payer.locks(token, payeeAddress)).length;
    node.faults.refuseStart = 'Invalid algorithm';
    try {
      const job = json(await infer('refused'));
      expect(job).toMatchObject({ status: 'failed', error: { code: 'compute_node_refused' }, attempts: 1 });
      expect(await paymentOf(job.id)).toMatchObject({ status: 'failed', nodeJobId: null, lockTx: null });
    } finally {
      node.faults.refuseStart = null;
    }
    expect(await balance()).toBe(before);
    expect((await payer.locks(token, payeeAddress)).length).toBe(locks);
  });

  it('start answer lost: the job fails uncharged, the lock it made is found and refunded after expiry', async () => {
    const before = await balance();
    node.faults.loseStartResponse = true;
    let jobId: string;
    try {
      jobId = json(await infer('the answer is lost', 'respond-async')).id;
      // While the gateway runs it, the workers' watchdog does not see it (it would re-queue it to them).
      await eventually(async () => (await t.app.jobService.get(customer.account.id, jobId))?.status === 'running');
      expect((await createJobRepository(t.app.db).listUnfinishedForWatchdog()).map((j) => j.id)).not.toContain(jobId);
      const job = await eventually(async () => {
        const row = await t.app.jobService.get(customer.account.id, jobId);
        return row && row.status !== 'running' ? row : undefined;
      });
      expect(job).toMatchObject({ status: 'failed', error: { code: 'compute_node_start_unknown' }, attempts: 1 });
    } finally {
      node.faults.loseStartResponse = false;
    }
    expect(await balance()).toBe(before);
    // The start locked on chain: the reconciler ties the lock to the row by node, amount and time.
    const lost = node.jobs().at(-1)!;
    expect((await payer.locks(token, payeeAddress)).map((l) => l.jobId)).toContain(lost.escrowJobId);
    expect(await paymentBecomes(jobId, 'locked')).toMatchObject({ escrowJobId: lost.escrowJobId.toString(), lockTx: lost.lockTx });

    const available = (await payer.funds(token)).available;
    await expireLocks();
    const refunded = await paymentBecomes(jobId, 'canceled');
    expect((await payer.funds(token)).available).toBe(available + BigInt(refunded.amount));
    expect(await balance()).toBe(before);
    await expectRowsMatchChain();
  });

  it('claim failing: the customer is charged once for the finished job, the unclaimed lock is refunded after expiry', async () => {
    const before = await balance();
    node.faults.failClaim = true;
    let job: { id: string; status: string; cost: number; output: string };
    try {
      job = json(await infer('never claimed'));
    } finally {
      node.faults.failClaim = false;
    }
    expect(job).toMatchObject({ status: 'succeeded' });
    expect(job.output.length).toBeGreaterThan(0);
    expect(await balance()).toBe(before - BigInt(job.cost));
    expect(await paymentOf(job.id)).toMatchObject({ status: 'locked', claimTx: null });

    await expireLocks();
    const refunded = await paymentBecomes(job.id, 'canceled');
    expect(refunded.cancelTx).toMatch(/^0x[0-9a-f]{64}$/);
    // Later passes change nothing, and the customer's charge stays the one above.
    await new Promise((r) => setTimeout(r, 500));
    expect(await paymentOf(job.id)).toEqual(refunded);
    expect(await balance()).toBe(before - BigInt(job.cost));
    expect((await payer.funds(token)).locked).toBe(0n);
    await expectRowsMatchChain();
  });
});
