// Every job is paid by an Ocean order: publish → order → validate → run, end to end through the
// queue and a real worker process, on a real local chain with Ocean's contracts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { create } from 'tar';
import { Interface, parseEther } from 'ethers';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { GAS } from '../../../src/ocean/gas-limits.js';
import { WEIGHTS_SHA256_KEY, erc725Text } from '../../../src/ocean/model-publisher.js';
import { buildTinyModel } from '../../../src/runtime/index.js';
import { readAnchorTx } from '../../../src/ocean/log-anchor.js';
import { decodeReceipt, outputSha256, verifyReceiptInclusion, verifyReceiptSignature } from '../../../src/receipts/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRow } from '../../../src/models/model-repository.js';
import { createOceanClient } from '../../../src/ocean/ocean-client.js';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import type { RunningProcess } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually, idleWorkerHeartbeat, startWorker, stopWorker } from '../../helpers/worker-process.js';

let t: TestApp;
let ocean: EmbeddedOcean;
let model: ModelRow;
let worker: RunningProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-ocean-jobs-'));

const json = (res: { body: string }) => JSON.parse(res.body);
async function streamToBuffer(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
// A forged order hash is asked for again for ORDER_RECEIPT_WAIT_MS before it counts as missing.
const workerEnv = () => ({ CHAIN: 'on', CHAIN_RPC_URL: ocean.chain.rpcUrl, WORKER_CONCURRENCY: '32', ORDER_RECEIPT_WAIT_MS: '1000', CHAIN_WATCH_INTERVAL_MS: '200' });

beforeAll(async () => {
  ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  t = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0' }, undefined, {
    mode: 'embedded',
    config: ocean.config,
    stop: () => ocean.stop(),
  });
  model = await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t));
  worker = await startWorker(t, workerEnv());
});
afterAll(async () => {
  await stopWorker(worker);
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
  await ocean?.stop();
});

const infer = (headers: Record<string, string>, extra: Record<string, string> = {}, max = 2) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/infer',
    headers: { ...headers, ...extra },
    payload: { model: 'tiny-gpt2', input: 'paid for on chain', parameters: { max_new_tokens: max } },
  });
const getJob = async (headers: Record<string, string>, id: string) =>
  json(await t.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers }));

describe('models as Ocean assets', () => {
  it('publishes the model: DID, NFT and datatoken in the catalog, weights sha256 readable on chain', async () => {
    const listed = json(await t.app.inject({ method: 'GET', url: '/v1/models/tiny-gpt2' }));
    expect(listed.ocean).toMatchObject({ chain_id: 8996, nft_address: model.nftAddress, datatoken_address: model.datatokenAddress });
    expect(listed.ocean.did).toMatch(/^did:op:[0-9a-f]{64}$/);
    expect(listed.ocean.tx_hashes.create).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await t.app.ocean!.client.readWeightsSha256(model.nftAddress!)).toBe(model.weightsSha256);
  });
});

describe('POST /v1/models', () => {
  it('publishes an uploaded model folder as an Ocean asset owned by the caller, who then earns from its jobs', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'posthuman-upload-'));
    await buildTinyModel(join(folder, 'my-model'), { seed: 9 });
    const archive = await streamToBuffer(create({ gzip: true, cwd: folder }, ['my-model']));
    const provider = await createFundedAccount(t, { scopes: ['publish'] });
    const upload = (headers: Record<string, string>, query: string, payload: Buffer) =>
      t.app.inject({ method: 'POST', url: `/v1/models?${query}`, headers: { ...headers, 'content-type': 'application/gzip' }, payload });

    const res = await upload(provider.headers, 'id=community-7&price_per_job=500&price_per_1k_tokens=100', archive);
    expect(res.statusCode).toBe(201);
    const published = json(res);
    expect(published).toMatchObject({ id: 'community-7', owner_account_id: provider.account.id, pricing: { per_job: 500 } });
    expect(published.ocean.did).toMatch(/^did:op:/);
    expect(await t.app.ocean!.client.readWeightsSha256(published.ocean.nft_address)).toBe(published.weights_sha256);

    expect((await upload(provider.headers, 'id=community-7&price_per_job=1&price_per_1k_tokens=1', archive)).statusCode).toBe(409);
    const junk = await upload(provider.headers, 'id=junk&price_per_job=1&price_per_1k_tokens=1', Buffer.from('not a tarball'));
    expect(junk.statusCode).toBe(400);
    const consumer = await createFundedAccount(t, { credits: 1_000_000, scopes: ['infer'] });
    expect((await upload(consumer.headers, 'id=nope&price_per_job=1&price_per_1k_tokens=1', archive)).statusCode).toBe(403);

    const job = json(
      await t.app.inject({
        method: 'POST',
        url: '/v1/infer',
        headers: consumer.headers,
        payload: { model: 'community-7', input: 'hello', parameters: { max_new_tokens: 2 } },
      }),
    );
    expect(job).toMatchObject({ status: 'succeeded', order: { chain_id: 8996 } });
    const earnings = (await t.app.db.execute(
      sql`SELECT balance::text AS b FROM ledger_books WHERE account_id = ${provider.account.id} AND kind = 'earnings'`,
    )) as unknown as { rows: { b: string }[] };
    // 75% of the price, rounded down; the marketplace keeps the rest.
    expect(BigInt(earnings.rows[0].b)).toBe((BigInt(job.cost) * 7_500n) / 10_000n);
    const owner = json(await t.app.inject({ method: 'GET', url: '/v1/account', headers: { authorization: provider.headers.authorization } }));
    expect(BigInt(owner.earnings)).toBe(BigInt(earnings.rows[0].b));
  });

  it('answers 503 with Retry-After when the chain is down, keeps nothing, and takes the same upload later', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'posthuman-upload-'));
    await buildTinyModel(join(folder, 'outage-model'), { seed: 11 });
    const archive = await streamToBuffer(create({ gzip: true, cwd: folder }, ['outage-model']));
    const provider = await createFundedAccount(t, { scopes: ['publish'] });
    const upload = () =>
      t.app.inject({
        method: 'POST',
        url: '/v1/models?id=outage-model&price_per_job=1&price_per_1k_tokens=1',
        headers: { ...provider.headers, 'content-type': 'application/gzip' },
        payload: archive,
      });
    await ocean.chain.pauseRpc();
    let refused: Awaited<ReturnType<typeof upload>>;
    try {
      refused = await upload();
    } finally {
      await ocean.chain.resumeRpc();
    }
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(json(refused)).toMatchObject({ code: 'chain_unavailable' });
    expect(refused.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    expect((await t.app.inject({ method: 'GET', url: '/v1/models/outage-model' })).statusCode).toBe(404);
    const again = await upload();
    expect(again.statusCode, again.body).toBe(201);
    expect(json(again).ocean.did).toMatch(/^did:op:/);
  });
});

describe('fixed-price models', () => {
  it('sells each order datatoken for OCEAN on a fixed-rate exchange, paid by the gateway wallet', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'posthuman-priced-'));
    await buildTinyModel(join(folder, 'priced'), { seed: 11 });
    const archive = await streamToBuffer(create({ gzip: true, cwd: folder }, ['priced']));
    const provider = await createFundedAccount(t, { scopes: ['publish'] });
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/models?id=priced-0&price_per_job=1&price_per_1k_tokens=1&ocean_price=0',
      headers: { ...provider.headers, 'content-type': 'application/gzip' },
      payload: archive,
    });
    expect(json(bad)).toMatchObject({ status: 400, field: 'querystring.ocean_price' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/models?id=priced&price_per_job=1&price_per_1k_tokens=1&ocean_price=2',
      headers: { ...provider.headers, 'content-type': 'application/gzip' },
      payload: archive,
    });
    expect(res.statusCode).toBe(201);
    expect(json(res).ocean.price_ocean).toBe('2');

    const ocean = t.app.ocean!.client;
    const erc20 = new Interface(['function balanceOf(address) view returns (uint256)']);
    const balanceOf = async () =>
      BigInt(await ocean.provider.call({ to: ocean.addresses.Ocean, data: erc20.encodeFunctionData('balanceOf', [t.app.ocean!.consumerAddress]) }));
    const before = await balanceOf();
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const job = json(
      await t.app.inject({ method: 'POST', url: '/v1/infer', headers, payload: { model: 'priced', input: 'paid', parameters: { max_new_tokens: 2 } } }),
    );
    expect(job).toMatchObject({ status: 'succeeded', order: { chain_id: 8996 } });
    const paid = before - (await balanceOf());
    // 2 OCEAN per datatoken plus the exchange's 0.1% Ocean fee.
    expect(paid).toBe(parseEther('2.002'));
  });
});

describe('receipts and the transparency log', () => {
  it('signs a receipt binding output, weights and order; logs it; anchors the head on chain', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const job = json(await infer(headers));
    expect(job.receipt).toMatchObject({ id: expect.any(String), log_index: expect.any(Number) });
    const jwks = json(await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }));
    const verified = await verifyReceiptSignature(job.receipt.jws, jwks);
    expect(verified.checks).toEqual([
      expect.objectContaining({ check: 'signature', ok: true }),
      expect.objectContaining({ check: 'attestation', ok: true }),
    ]);
    const payload = decodeReceipt(job.receipt.jws).payload as Record<string, any>;
    expect(payload).toMatchObject({
      job_id: job.id,
      kind: 'infer',
      model: { id: 'tiny-gpt2', weights_sha256: model.weightsSha256, datatoken: model.datatokenAddress, did: model.did },
      order: { chain_id: 8996, tx_hash: job.order.tx_hash },
      output_sha256: outputSha256({ output: job.output, finish_reason: job.finish_reason }),
      log_index: job.receipt.log_index,
    });
    expect(JSON.stringify(payload)).not.toContain('test account');

    const mine = await t.app.inject({ method: 'GET', url: `/v1/receipts/${job.receipt.id}`, headers });
    expect(json(mine).jws).toBe(job.receipt.jws);
    const stranger = await createFundedAccount(t);
    expect((await t.app.inject({ method: 'GET', url: `/v1/receipts/${job.receipt.id}`, headers: stranger.headers })).statusCode).toBe(404);

    const anchored = json(await t.app.inject({ method: 'POST', url: '/v1/admin/log/anchor', headers: t.operatorHeaders, payload: {} }));
    expect(anchored.anchor).toMatchObject({ chain_id: 8996, tx_hash: expect.stringMatching(/^0x/) });
    const onChain = await readAnchorTx(t.app.ocean!.client.provider, anchored.anchor.tx_hash);
    expect(onChain).toMatchObject({ treeSize: anchored.tree_size, rootHash: anchored.root_hash });

    const proof = json(
      await t.app.inject({ method: 'GET', url: `/v1/log/proof/inclusion?receipt=${job.receipt.id}&tree_size=${anchored.tree_size}` }),
    );
    expect(await verifyReceiptInclusion(job.receipt.jws, proof, jwks)).toMatchObject({ check: 'inclusion', ok: true });
    const head = json(await t.app.inject({ method: 'GET', url: '/v1/log/tree-head' }));
    expect(head.latest_anchored.tree_size).toBe(anchored.tree_size);
    expect(head.ocean.consumer_address).toBe(t.app.ocean!.consumerAddress);

    // The same checks server-side, behind an API key; an operator anchor needs no body.
    const verify = (h: Record<string, string>, receipt: string) =>
      t.app.inject({ method: 'POST', url: '/v1/receipts/verify', headers: h, payload: { receipt } });
    const report = json(await verify(headers, job.receipt.jws));
    expect(report.checks.map((c: { check: string }) => c.check)).toEqual(['signature', 'attestation', 'weights', 'order', 'inclusion']);
    expect(report).toMatchObject({ ok: true });
    const [h, p, sig] = job.receipt.jws.split('.');
    const forged = JSON.parse(Buffer.from(p, 'base64url').toString());
    forged.usage.output_tokens += 1;
    const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
    const refused = json(await verify(headers, tampered));
    expect(refused.ok).toBe(false);
    expect(refused.checks[0]).toMatchObject({ check: 'signature', ok: false });
    expect((await verify({}, job.receipt.jws)).statusCode).toBe(401);
    const bare = await t.app.inject({ method: 'POST', url: '/v1/admin/log/anchor', headers: t.operatorHeaders });
    expect(bare.statusCode).toBe(200);
  });
});

describe('every job is ordered and validated', () => {
  it('runs a job paid by its own startOrder, which validates on chain', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const job = json(await infer(headers));
    expect(job.status).toBe('succeeded');
    expect(job.order).toMatchObject({ chain_id: 8996, tx_hash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    const check = await t.app.ocean!.client.validateOrder({
      txHash: job.order.tx_hash,
      datatokenAddress: model.datatokenAddress!,
      expectedConsumer: t.app.ocean!.consumerAddress,
      serviceIndex: 0,
      providerAddress: t.app.ocean!.client.providerAddress,
      validitySeconds: model.serviceTimeout!,
    });
    expect(check.ok).toBe(true);
  });

  it('50 concurrent jobs from one wallet all get their own valid order', async () => {
    const { headers } = await createFundedAccount(t, { credits: 10_000_000 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => infer(headers, {}, 1)));
    const jobs = answers.map(json);
    expect(jobs.filter((j) => j.status === 'succeeded')).toHaveLength(50);
    expect(new Set(jobs.map((j) => j.order.tx_hash)).size).toBe(50);
  });

  it('refuses forged, non-order, wrong-datatoken, wrong-consumer and expired orders, charging nothing', async () => {
    await stopWorker(worker);
    worker = undefined;
    // A worker that only heartbeats: jobs are taken, none runs until the real worker starts below.
    const idle = await idleWorkerHeartbeat(t);
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    const submitted = [];
    for (let i = 0; i < 5; i++) submitted.push(json(await infer(headers, { prefer: 'respond-async' })));
    await idle();
    expect(submitted.every((j) => j.status === 'queued' && j.order)).toBe(true);

    // A second model's datatoken, and an order placed by a wallet that is not the gateway's.
    const other = await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t, 'other-model'));
    const wrongDatatoken = (await t.app.ocean!.orderFor(other)).order.txHash;
    const stranger = createOceanClient({ ...ocean.config, consumerPrivateKey: ocean.chain.accounts[3].privateKey });
    const wrongConsumer = (
      await stranger.orders.placeOrder({ datatokenAddress: model.datatokenAddress!, serviceId: model.serviceId!, serviceIndex: 0 })
    ).txHash;
    stranger.close();
    const swaps: [string, string][] = [
      [submitted[0].id, `0x${randomBytes(32).toString('hex')}`],
      [submitted[1].id, model.publishTxHashes!.setMetadata],
      [submitted[2].id, wrongDatatoken],
      [submitted[3].id, wrongConsumer],
    ];
    for (const [id, tx] of swaps) await t.app.db.execute(sql`UPDATE jobs SET order_tx_hash = ${tx} WHERE id = ${id}`);
    // The fifth keeps its genuine order, but the service window passes before any worker runs it.
    await ocean.chain.request('evm_increaseTime', [model.serviceTimeout! + 60]);
    await ocean.chain.request('evm_mine', []);

    // Followers of each job's events: the worker computes while it checks the order, but holds every
    // token back until the order passes, so a refused order's job streams nothing.
    const streamedTokens: string[] = [];
    const followers = await Promise.all(
      submitted.map((j) => t.app.jobEvents.subscribe(j.id, (e) => e.type === 'token' && streamedTokens.push(j.id), { tokens: true })),
    );
    worker = await startWorker(t, workerEnv());
    const finals = await Promise.all(
      submitted.map((j) => eventually(async () => {
        const now = await getJob(headers, j.id);
        return now.status !== 'queued' && now.status !== 'running' ? now : null;
      }, 150_000)),
    );
    expect(finals.map((j) => j.status)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    expect(finals.map((j) => j.error.code)).toEqual(Array(5).fill('invalid_order'));
    expect(finals.map((j) => j.error.message.split(':')[0])).toEqual(['not_found', 'not_found', 'wrong_datatoken', 'wrong_consumer', 'expired']);
    expect(json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }))).toMatchObject({ balance: 1_000_000, held: 0 });
    for (const unsubscribe of followers) await unsubscribe();
    expect(streamedTokens).toEqual([]);
    // A missing receipt is asked for again for ORDER_RECEIPT_WAIT_MS before it counts: minutes on a loaded machine.
  }, 200_000);

  it('loses nothing when the chain stops: ordering fails and releases, validation waits and retries', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    await stopWorker(worker);
    worker = undefined;
    const idle = await idleWorkerHeartbeat(t);
    const ordered = json(await infer(headers, { prefer: 'respond-async' }));
    expect(ordered.order).not.toBeNull();

    await ocean.chain.pauseRpc();
    try {
      const unordered = json(await infer(headers));
      await idle();
      expect(unordered).toMatchObject({ status: 'failed', cost: 0, error: { code: 'order_failed' } });
      worker = await startWorker(t, workerEnv());
      // The worker cannot reach the chain to validate: the job waits and retries with backoff.
      await eventually(async () => (await getJob(headers, ordered.id)).attempts >= 2, 30_000);
      expect((await getJob(headers, ordered.id)).status).toBe('running');
    } finally {
      await ocean.chain.resumeRpc();
    }
    const done = await eventually(async () => {
      const j = await getJob(headers, ordered.id);
      return j.status === 'succeeded' ? j : null;
    }, 60_000);
    expect(done.cost).toBeGreaterThan(0);
    expect(json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }))).toMatchObject({
      balance: 1_000_000 - done.cost,
      held: 0,
    });
  });
});

describe('what changes on chain after publishing', () => {
  it('a revoked model stops serving (model_revoked), and so do weights whose registered hash changed (weights_changed), charging nothing', async () => {
    worker ??= await startWorker(t, workerEnv());
    const revocable = await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t, 'revocable'));
    const rehashed = await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t, 'rehashed'));
    const { headers } = await createFundedAccount(t, { credits: 10_000_000 });
    const run = async (id: string) =>
      json(await t.app.inject({ method: 'POST', url: '/v1/infer', headers, payload: { model: id, input: 'still served?', parameters: { max_new_tokens: 1 } } }));
    expect((await run('revocable')).status).toBe('succeeded');
    expect((await run('rehashed')).status).toBe('succeeded');

    // The gateway's publisher owns both NFTs: it revokes one and registers other weights on the other.
    const nft = contractInterface('ERC721Template');
    const publisher = t.app.ocean!.client.publisher;
    await publisher.sendAndWait({ to: revocable.nftAddress!, data: nft.encodeFunctionData('setMetaDataState', [3]), gasLimit: GAS.setNewData });
    await publisher.sendAndWait({
      to: rehashed.nftAddress!,
      data: nft.encodeFunctionData('setNewData', [WEIGHTS_SHA256_KEY, erc725Text('e5'.repeat(32))]),
      gasLimit: GAS.setNewData,
    });
    // The worker sees each change within its watch interval (200 ms here); a job checked before may still run.
    const failed = async (id: string) => eventually(async () => {
      const job = await run(id);
      return job.status === 'failed' ? job : null;
    }, 20_000);
    const revoked = await failed('revocable');
    expect(revoked).toMatchObject({ cost: 0, error: { code: 'model_revoked', message: expect.stringContaining('is revoked on chain') } });
    const changed = await failed('rehashed');
    expect(changed).toMatchObject({ cost: 0, error: { code: 'weights_changed', message: expect.stringContaining(`to ${'e5'.repeat(32)}`) } });
    expect(json(await t.app.inject({ method: 'GET', url: '/v1/account', headers })).held).toBe(0);
  });
});

describe('orders a reorg removes or another job already used', () => {
  const finalOf = (headers: Record<string, string>, id: string) =>
    eventually(async () => {
      const now = await getJob(headers, id);
      return now.status !== 'queued' && now.status !== 'running' ? now : null;
    }, 150_000);

  it('fails a job whose order a reorg removed after the gateway took it (order_reorged), charging nothing', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    await stopWorker(worker);
    worker = undefined;
    const idle = await idleWorkerHeartbeat(t);
    const snapshot = await ocean.chain.request('evm_snapshot', []);
    const job = json(await infer(headers, { prefer: 'respond-async' }));
    await idle();
    expect(job.order).not.toBeNull();
    // A reorg takes the order's block away; the chain goes on with other blocks at that height.
    expect(await ocean.chain.request('evm_revert', [snapshot])).toBe(true);
    await ocean.chain.request('evm_mine', []);
    await ocean.chain.request('evm_mine', []);
    // The revert also rewound the gateway wallet's nonce (a real reorg puts the transactions back in the mempool).
    t.app.ocean!.client.consumer.markStale();
    expect(await ocean.chain.request('eth_getTransactionReceipt', [job.order.tx_hash])).toBeNull();

    worker = await startWorker(t, workerEnv());
    const final = await finalOf(headers, job.id);
    expect(final).toMatchObject({ status: 'failed', cost: 0, error: { code: 'order_reorged', message: expect.stringContaining('a reorg replaced that block') } });
    expect(json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }))).toMatchObject({ balance: 1_000_000, held: 0 });
  }, 200_000);

  it('refuses a payment another job already carries, reused for a second job (overused), charging nothing', async () => {
    const { headers } = await createFundedAccount(t, { credits: 1_000_000 });
    await stopWorker(worker);
    worker = undefined;
    const idle = await idleWorkerHeartbeat(t);
    const first = json(await infer(headers, { prefer: 'respond-async' }));
    const second = json(await infer(headers, { prefer: 'respond-async' }));
    await idle();
    // A valid reuseOrder of the first job's order (a fresh provider fee, no new datatoken) put on the second job.
    const reuse = await t.app.ocean!.client.orders.reuseOrder(first.order.tx_hash, { datatokenAddress: model.datatokenAddress!, serviceId: model.serviceId!, serviceIndex: 0 });
    await t.app.db.execute(sql`UPDATE jobs SET order_tx_hash = ${reuse.txHash}, order_block_hash = ${reuse.blockHash} WHERE id = ${second.id}`);

    worker = await startWorker(t, workerEnv());
    const [a, b] = await Promise.all([finalOf(headers, first.id), finalOf(headers, second.id)]);
    expect(a.status).toBe('succeeded');
    expect(b).toMatchObject({ status: 'failed', cost: 0, error: { code: 'invalid_order', message: expect.stringMatching(/^overused: order already used 1 time/) } });
    expect(json(await t.app.inject({ method: 'GET', url: '/v1/account', headers }))).toMatchObject({ balance: 1_000_000 - a.cost, held: 0 });
  }, 200_000);
});
