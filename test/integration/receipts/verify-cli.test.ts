// `posthuman verify` as a real child process against a served gateway, a worker process, Postgres,
// Redis and a local chain: a genuine receipt passes every check, and each forgery fails its own;
// anchors count only when the marketplace's anchoring address wrote them on its log NFT, as pinned
// from /.well-known/posthuman-marketplace.json. Then `POST /v1/receipts/verify` on a small Fastify
// instance over the same gateway's keys, log and chain.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import errorHandler from '../../../src/errors/error-handler.js';
import { ProblemSchema } from '../../../src/http/schemas.js';
import { createValidatorCompiler } from '../../../src/http/validator-compiler.js';
import type { ModelRow } from '../../../src/models/model-repository.js';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { createLogAnchor } from '../../../src/ocean/log-anchor.js';
import { ManagedSigner } from '../../../src/ocean/nonce-manager.js';
import type { ReceiptPayload } from '../../../src/receipts/receipt-builder.js';
import { decodeReceipt, receiptLeafHash, signReceipt } from '../../../src/receipts/receipt-signer.js';
import { createJwsSigner, generateSigningKey, workerKeyName } from '../../../src/receipts/signing-keys.js';
import verifyRoutes from '../../../src/receipts/verify-routes.js';
import { decodeAttestation, signAttestation } from '../../../src/receipts/worker-attestation.js';
import { type RunningProcess, startEntry } from '../../helpers/child-process.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { eventually, startWorker, stopWorker } from '../../helpers/worker-process.js';

const WORKER_ID = 'verify-worker';
const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-verify-'));
const files = mkdtempSync(join(tmpdir(), 'posthuman-verify-files-'));
let t: TestApp;
let ocean: EmbeddedOcean;
let model: ModelRow;
let worker: RunningProcess | undefined;
let gatewayUrl: string;
let account: Awaited<ReturnType<typeof createFundedAccount>>;

type Job = { id: string; order: { tx_hash: string }; receipt: { id: string; log_index: number; jws: string } };

beforeAll(async () => {
  ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  t = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', ANCHOR_INTERVAL_MS: '0' }, undefined, {
    mode: 'embedded',
    config: ocean.config,
    stop: () => ocean.stop(),
  });
  model = await t.app.ocean!.ensurePublished(t.app.db, await registerTinyModel(t));
  worker = await startWorker(t, { CHAIN: 'on', CHAIN_RPC_URL: ocean.chain.rpcUrl, WORKER_ID });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  gatewayUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  account = await createFundedAccount(t, { credits: 5_000_000 });
});
afterAll(async () => {
  await stopWorker(worker);
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
  await ocean?.stop();
});

/** A finished job with its receipt (issued by the worker just after the job settles). */
async function runJob(input: string): Promise<Job> {
  const payload = { model: 'tiny-gpt2', input, parameters: { max_new_tokens: 2 } };
  const res = await t.app.inject({ method: 'POST', url: '/v1/infer', headers: account.headers, payload });
  expect(res.json()).toMatchObject({ status: 'succeeded' });
  return eventually(async () => {
    const job = (await t.app.inject({ method: 'GET', url: `/v1/jobs/${res.json().id}`, headers: account.headers })).json();
    return job.receipt ? (job as Job) : null;
  });
}

async function anchor(): Promise<{ tree_size: number }> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/admin/log/anchor', headers: t.operatorHeaders, payload: {} });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Writes `content` to a fresh file; returns its path. */
function file(content: string): string {
  const path = join(files, `${randomUUID()}.txt`);
  writeFileSync(path, content);
  return path;
}

type CliRun = { code: number | null; out: string; checks: Record<string, { ok: boolean; detail: string }> };

async function verify(args: string[], env: Record<string, string> = { CHAIN_RPC_URL: ocean.chain.rpcUrl }): Promise<CliRun> {
  const proc = startEntry('src/cli.ts', env, ['verify', '--gateway', gatewayUrl, ...args]);
  const code = await proc.exited(180_000);
  const out = proc.output();
  const checks: CliRun['checks'] = {};
  for (const m of out.matchAll(/^(pass|FAIL) {2}(\w+) {2}(.*)$/gm)) checks[m[2]] = { ok: m[1] === 'pass', detail: m[3] };
  return { code, out, checks };
}

/** Asserts exactly `failing` failed (with details matching), every other check passed. */
function expectOnlyFailing(run: CliRun, failing: Record<string, RegExp>) {
  expect(Object.keys(run.checks), run.out).toEqual(['signature', 'attestation', 'weights', 'order', 'inclusion']);
  for (const [check, result] of Object.entries(run.checks)) {
    if (failing[check]) expect(result, `${check}\n${run.out}`).toMatchObject({ ok: false, detail: expect.stringMatching(failing[check]) });
    else expect(result.ok, `${check}\n${run.out}`).toBe(true);
  }
  expect(run.code, run.out).toBe(Object.keys(failing).length === 0 ? 0 : 1);
}

const gatewaySigner = () => t.app.keyStore.ensureActive('gateway');

/** Signs `payload` with the real gateway key and appends it to the log, as a lying gateway could. */
async function appendForged(payload: ReceiptPayload): Promise<string> {
  const signer = await gatewaySigner();
  const receiptId = randomUUID();
  const { jws } = await t.app.transparencyLog.appendWithIndex(receiptId, async (idx) => {
    const signed = await signReceipt(signer, { ...payload, receipt_id: receiptId, log_index: idx });
    return { jws: signed, leafHash: receiptLeafHash(signed) };
  });
  return jws;
}

let genuine: Job;

// Each test starts several CLI processes (tsx), each seconds to start on a loaded machine.
describe('posthuman verify', { timeout: 240_000 }, () => {
  it('fails inclusion until the log is anchored, then passes every check (file, job JSON, by id, JSON output)', async () => {
    genuine = await runJob('verify me');
    const jwsFile = file(genuine.receipt.jws);
    expectOnlyFailing(await verify([jwsFile]), { inclusion: /no tree head is anchored on chain yet.*POST \/v1\/admin\/log\/anchor/ });

    expect((await anchor()).tree_size).toBeGreaterThan(genuine.receipt.log_index);
    const [plain, fromJob, byId, asJson] = await Promise.all([
      verify([jwsFile]),
      verify([file(JSON.stringify(genuine))]),
      verify([genuine.receipt.id, '--api-key', account.key.key]),
      verify([jwsFile, '--json']),
    ]);
    for (const run of [plain, fromJob, byId]) expectOnlyFailing(run, {});
    expect(plain.out).toContain('verified: all 5 checks passed');
    expect(plain.checks.order.detail).toContain(genuine.order.tx_hash);
    expect(plain.checks.weights.detail).toContain(model.nftAddress!);
    const report = JSON.parse(asJson.out);
    expect(asJson.code).toBe(0);
    expect(report).toMatchObject({ ok: true, receipt: { receipt_id: genuine.receipt.id } });
    expect(report.checks.map((c: { ok: boolean }) => c.ok)).toEqual([true, true, true, true, true]);
  });

  it('fails a receipt newer than the last anchor until the log is anchored again', async () => {
    const later = await runJob('after the anchor');
    const path = file(later.receipt.jws);
    expectOnlyFailing(await verify([path]), { inclusion: new RegExp(`does not cover log entry ${later.receipt.log_index} yet.*anchor`) });
    await anchor();
    expectOnlyFailing(await verify([path]), {});
  });

  it('fails the signature of a changed payload, re-signed with a key not in the JWKS or not re-signed', async () => {
    const { payload } = decodeReceipt(genuine.receipt.jws);
    const changed = { ...payload, cost: '1' };
    const stranger = await generateSigningKey('gateway');
    const resigned = await signReceipt(await createJwsSigner(stranger.kid, stranger.privateJwk), changed);
    const [header, , signature] = genuine.receipt.jws.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`;
    const [a, b] = await Promise.all([verify([file(resigned)]), verify([file(tampered)])]);
    for (const run of [a, b]) {
      expect(run.code).toBe(1);
      expect(Object.values(run.checks).map((c) => c.ok)).toEqual([false, false, false, false, false]);
    }
    expect(a.checks.signature.detail).toContain(`key ${stranger.kid} is not among the trusted keys`);
    expect(b.checks.signature.detail).toMatch(/does not verify|not canonical/);
  });

  it('fails inclusion of a receipt signed with the real key but never appended to the log', async () => {
    const { payload } = decodeReceipt(genuine.receipt.jws);
    const signer = await gatewaySigner();
    const unlogged = await signReceipt(signer, { ...payload, receipt_id: randomUUID() });
    const sameIdOtherCost = await signReceipt(signer, { ...payload, cost: '1' });
    const [a, b] = await Promise.all([verify([file(unlogged)]), verify([file(sameIdOtherCost)])]);
    expectOnlyFailing(a, { inclusion: /no inclusion proof.*404/ });
    expectOnlyFailing(b, { inclusion: /the proof is for another leaf/ });
  });

  it('fails weights (hash, DID) and order (not an order, no such tx) of logged, anchored, attested forgeries', async () => {
    const { payload } = decodeReceipt(genuine.receipt.jws);
    const workerSigner = await t.app.keyStore.ensureActive('worker', workerKeyName(WORKER_ID));
    const attested = decodeAttestation(payload.attestation);
    expect(workerSigner.kid).toBe(attested.kid);
    const fakeWeights = 'ff'.repeat(32);
    const attestation = await signAttestation(workerSigner, { ...attested.payload, model_weights_sha256: fakeWeights });
    const forgeries = {
      weights: await appendForged({ ...payload, model: { ...payload.model, weights_sha256: fakeWeights }, attestation }),
      did: await appendForged({ ...payload, model: { ...payload.model, did: `did:op:${'0'.repeat(64)}` } }),
      notAnOrder: await appendForged({ ...payload, order: { ...payload.order, tx_hash: model.publishTxHashes!.setMetadata } }),
      noSuchTx: await appendForged({ ...payload, order: { ...payload.order, tx_hash: `0x${'77'.repeat(32)}` } }),
    };
    await anchor();
    const [weights, did, notAnOrder, noSuchTx] = await Promise.all(Object.values(forgeries).map((jws) => verify([file(jws)])));
    expectOnlyFailing(weights, { weights: new RegExp(`registers weights ${model.weightsSha256}, the receipt says ${fakeWeights}`) });
    expectOnlyFailing(did, { weights: /the receipt's DID did:op:0+ is not did:op:/ });
    expectOnlyFailing(notAnOrder, { order: /not_found: transaction holds no Ocean order/ });
    expectOnlyFailing(noSuchTx, { order: /not_found: no mined transaction/ });
  });

  it('checks the order against a pinned consumer and keys against a pinned JWKS', async () => {
    const jwsFile = file(genuine.receipt.jws);
    const jwks = await t.app.keyStore.jwks();
    const gatewayOnly = { keys: jwks.keys.filter((k) => k.kid.startsWith('gw-')) };
    const [wrongConsumer, rightConsumer, pinnedAll, pinnedGateway] = await Promise.all([
      verify([jwsFile, '--consumer', ocean.chain.accounts[3].address]),
      verify([jwsFile, '--consumer', t.app.ocean!.consumerAddress]),
      verify([jwsFile, '--jwks', file(JSON.stringify(jwks))]),
      verify([jwsFile, '--jwks', file(JSON.stringify(gatewayOnly))]),
    ]);
    expectOnlyFailing(wrongConsumer, { order: /wrong_consumer/ });
    expectOnlyFailing(rightConsumer, {});
    expectOnlyFailing(pinnedAll, {});
    expectOnlyFailing(pinnedGateway, { attestation: /not among the trusted keys/ });
  });

  it('fails (never passes) the chain checks without an RPC, and inclusion without a reachable gateway', async () => {
    const jwsFile = file(genuine.receipt.jws);
    const jwks = file(JSON.stringify(await t.app.keyStore.jwks()));
    const [noRpc, noGateway] = await Promise.all([
      verify([jwsFile], {}),
      verify([jwsFile, '--gateway', 'http://127.0.0.1:9', '--jwks', jwks, '--consumer', t.app.ocean!.consumerAddress, '--rpc', ocean.chain.rpcUrl], {}),
    ]);
    expectOnlyFailing(noRpc, { weights: /no chain RPC/, order: /no chain RPC/, inclusion: /no chain RPC/ });
    expectOnlyFailing(noGateway, { inclusion: /no anchored tree head to check against: GET http:\/\/127\.0\.0\.1:9\/v1\/log\/tree-head failed/ });
  });

  it('exits 2 on usage errors and unreadable receipts', async () => {
    const runs = await Promise.all([
      verify([]),
      verify(['--bogus', file(genuine.receipt.jws)]),
      verify([file(genuine.receipt.jws), '--consumer', 'not-an-address']),
      verify([join(files, 'missing.jws')]),
      verify([genuine.receipt.id]),
      verify([randomUUID(), '--api-key', account.key.key]),
      verify([file('{"id": "no jws here"}')]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(runs[4].out).toContain('needs --api-key or POSTHUMAN_API_KEY');
    expect(runs[5].out).toContain('answered 404');
    expect(runs.every((r) => Object.keys(r.checks).length === 0)).toBe(true);
  });
});

describe('the marketplace identity: pinned, reported, and enforced on anchors', () => {
  let doc: Record<string, unknown>;
  let docFile: string;

  it('publishes the document; verify pins it from a file and reports what it trusted, in text and JSON', { timeout: 240_000 }, async () => {
    const ocean = t.app.ocean!;
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/posthuman-marketplace.json' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      gateway_url: expect.stringMatching(/^http:\/\//),
      jwks_url: expect.stringMatching(/\/\.well-known\/jwks\.json$/),
      chain_id: ocean.chainId,
      log_nft_address: await t.app.logAnchoring!.nftAddress(),
      anchoring_address: ocean.client.publisherAddress,
      consumer_address: ocean.consumerAddress,
      provider_address: ocean.client.providerAddress,
    });
    // Saved as a user would, from the served gateway.
    doc = (await (await fetch(`${gatewayUrl}/.well-known/posthuman-marketplace.json`)).json()) as Record<string, unknown>;
    expect(doc).toMatchObject({ gateway_url: gatewayUrl, jwks_url: `${gatewayUrl}/.well-known/jwks.json` });
    docFile = file(JSON.stringify(doc));
    const jwksFile = file(JSON.stringify(await t.app.keyStore.jwks()));
    const jwsFile = file(genuine.receipt.jws);
    const [unpinned, pinned, allPinned, asJson] = await Promise.all([
      verify([jwsFile]),
      verify([jwsFile, '--marketplace', docFile]),
      verify([jwsFile, '--marketplace', docFile, '--jwks', jwksFile]),
      verify([jwsFile, '--marketplace', docFile, '--json']),
    ]);
    for (const run of [unpinned, pinned, allPinned]) expectOnlyFailing(run, {});
    expect(unpinned.out).toContain("identity: from the gateway's /.well-known document (not pinned)");
    expect(unpinned.out).toContain("keys: from the gateway's JWKS (not pinned)");
    expect(unpinned.out).toContain('note: the gateway vouched for what was not pinned');
    expect(pinned.out).toContain(`identity: pinned (${docFile})`);
    expect(pinned.out).toContain("keys: from the gateway's JWKS (not pinned)");
    expect(allPinned.out).toContain(`keys: pinned (${jwksFile})`);
    expect(allPinned.out).not.toContain('note: the gateway vouched');
    expect(pinned.checks.inclusion.detail).toContain(`NFT ${doc.log_nft_address}, sent by ${doc.anchoring_address}`);
    const report = JSON.parse(asJson.out);
    expect(report.ok).toBe(true);
    expect(report.trust).toMatchObject({
      pinned: false,
      identity: `pinned (${docFile})`,
      keys: expect.stringContaining("from the gateway's JWKS (not pinned)"),
      fields: {
        log_nft: { value: doc.log_nft_address, pinned: true, source: docFile },
        anchorer: { value: doc.anchoring_address, pinned: true, source: docFile },
        consumer: { value: doc.consumer_address, pinned: true, source: docFile },
        keys: { pinned: false, source: `${gatewayUrl}/.well-known/jwks.json` },
      },
    });
  });

  it('exits 2 on pins that are not addresses or not a marketplace document', { timeout: 240_000 }, async () => {
    const runs = await Promise.all([
      verify([file(genuine.receipt.jws), '--anchorer', '0x1234']),
      verify([file(genuine.receipt.jws), '--log-nft', 'nft']),
      verify([file(genuine.receipt.jws), '--marketplace', file(JSON.stringify({ gateway_url: gatewayUrl }))]),
      verify([file(genuine.receipt.jws), '--marketplace', join(files, 'missing.json')]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(runs[0].out).toContain('--anchorer 0x1234 is not an address');
    expect(runs[2].out).toContain('not a marketplace document: "jwks_url" must be a URL');
    expect(runs[3].out).toContain('--marketplace');
    expect(runs.every((r) => Object.keys(r.checks).length === 0)).toBe(true);
  });

  /** Grows the log, then makes the gateway claim `write`'s transaction anchors the new head (a lying gateway). */
  async function claimAnchor(write: (treeSize: number, rootHash: string) => Promise<{ txHash: string }>): Promise<string> {
    await appendForged({ ...decodeReceipt(genuine.receipt.jws).payload });
    const head = await t.app.transparencyLog.treeHead();
    const { txHash } = await write(head.tree_size, head.root_hash);
    await t.app.transparencyLog.recordAnchor(head.tree_size, txHash, t.app.ocean!.chainId);
    return txHash;
  }

  it('fails inclusion under an anchor written by another wallet on another NFT, or by the anchorer on another NFT', { timeout: 480_000 }, async () => {
    const gw = t.app.ocean!;
    const { provider, addresses } = gw.client;
    const jwsFile = file(genuine.receipt.jws);
    const route = await routeApp();
    try {
      // A stranger deploys a log NFT of its own with the marketplace's own anchoring code and
      // writes the log's true size and root there: the root is right, the writer is not.
      const stranger = new ManagedSigner(ocean.chain.accounts[4].privateKey, provider, { chainId: gw.chainId });
      const forger = createLogAnchor({ publisher: stranger, addresses });
      const forgedNft = await forger.ensureNft(provider);
      const forgedTx = await claimAnchor((size, root) => forger.anchor(forgedNft, size, root));
      const [unpinned, pinned] = await Promise.all([verify([jwsFile]), verify([jwsFile, '--marketplace', docFile])]);
      const byStranger = new RegExp(`anchor transaction ${forgedTx} was sent by ${stranger.address}, not by the marketplace's anchoring address ${doc.anchoring_address}`);
      expectOnlyFailing(unpinned, { inclusion: byStranger });
      expectOnlyFailing(pinned, { inclusion: byStranger });
      const viaRoute = (await route.inject({ method: 'POST', url: '/v1/receipts/verify', payload: { receipt: genuine.receipt.jws } })).json();
      expect(viaRoute.checks.at(-1)).toMatchObject({ check: 'inclusion', ok: false, detail: expect.stringMatching(byStranger) });

      // The marketplace's own anchoring wallet writes on a second NFT (a split view).
      const sameWallet = createLogAnchor({ publisher: gw.client.publisher, addresses });
      const secondNft = await sameWallet.ensureNft(provider);
      expect(secondNft).not.toBe(doc.log_nft_address);
      const splitTx = await claimAnchor((size, root) => sameWallet.anchor(secondNft, size, root));
      expectOnlyFailing(await verify([jwsFile, '--marketplace', docFile]), {
        inclusion: new RegExp(`anchor transaction ${splitTx} was sent to ${secondNft}, not to the marketplace's log NFT ${doc.log_nft_address}`),
      });

      // A genuine anchor on top passes again, pinned; pinning another anchorer or NFT fails it.
      await appendForged({ ...decodeReceipt(genuine.receipt.jws).payload });
      await anchor();
      const [good, otherAnchorer, otherNft, otherDoc] = await Promise.all([
        verify([jwsFile, '--marketplace', docFile]),
        verify([jwsFile, '--marketplace', docFile, '--anchorer', stranger.address]),
        verify([jwsFile, '--log-nft', forgedNft]),
        verify([jwsFile, '--marketplace', file(JSON.stringify({ ...doc, anchoring_address: stranger.address, log_nft_address: forgedNft }))]),
      ]);
      expectOnlyFailing(good, {});
      expect(good.out).toContain(`identity: pinned (${docFile})`);
      expectOnlyFailing(otherAnchorer, { inclusion: new RegExp(`not by the marketplace's anchoring address ${stranger.address}`) });
      expect(otherAnchorer.out).toMatch(/identity: pinned \(.*--anchorer.*\)/);
      expectOnlyFailing(otherNft, { inclusion: new RegExp(`not to the marketplace's log NFT ${forgedNft}`) });
      expect(otherNft.out).toContain('log NFT pinned (--log-nft)');
      expectOnlyFailing(otherDoc, { inclusion: new RegExp(`not by the marketplace's anchoring address ${stranger.address}`) });
      const genuineViaRoute = (await route.inject({ method: 'POST', url: '/v1/receipts/verify', payload: { receipt: genuine.receipt.jws } })).json();
      expect(genuineViaRoute.ok).toBe(true);
    } finally {
      await route.close();
    }
  });
});

/** The verify route alone, over the test gateway's key store, log and chain (`ocean: null` = CHAIN=off). */
async function routeApp(ocean = t.app.ocean) {
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidatorCompiler());
  app.addSchema(ProblemSchema);
  app.decorate('config', t.app.config);
  app.decorate('rateLimiter', t.app.rateLimiter);
  app.decorate('keyStore', t.app.keyStore);
  app.decorate('transparencyLog', t.app.transparencyLog);
  app.decorate('ocean', ocean);
  app.decorate('logAnchoring', ocean ? t.app.logAnchoring : null);
  await app.register(errorHandler);
  await app.register(verifyRoutes);
  await app.ready();
  return app;
}

describe('POST /v1/receipts/verify', () => {
  let withChain: Awaited<ReturnType<typeof routeApp>>;
  let withoutChain: Awaited<ReturnType<typeof routeApp>>;
  beforeAll(async () => {
    withChain = await routeApp();
    withoutChain = await routeApp(null);
  });
  afterAll(async () => {
    await withChain?.close();
    await withoutChain?.close();
  });
  const post = async (app: typeof withChain, payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/receipts/verify', payload });
  const summary = (body: { checks: { check: string; ok: boolean }[] }) => body.checks.map((c) => `${c.check}:${c.ok}`);

  it('passes a genuine receipt and fails forgeries on the right check, without credentials', async () => {
    const good = await post(withChain, { receipt: genuine.receipt.jws });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toMatchObject({ ok: true });
    expect(summary(good.json())).toEqual(['signature:true', 'attestation:true', 'weights:true', 'order:true', 'inclusion:true']);

    const { payload } = decodeReceipt(genuine.receipt.jws);
    const unlogged = await signReceipt(await gatewaySigner(), { ...payload, receipt_id: randomUUID() });
    const forged = await post(withChain, { receipt: unlogged });
    expect(forged.json().ok).toBe(false);
    expect(summary(forged.json())).toEqual(['signature:true', 'attestation:true', 'weights:true', 'order:true', 'inclusion:false']);

    const junk = await post(withChain, { receipt: 'not.a.receipt' });
    expect(junk.statusCode).toBe(200);
    expect(junk.json().checks[0]).toMatchObject({ check: 'signature', ok: false });
    const missing = await post(withChain, {});
    expect(missing.statusCode).toBe(400);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });

  it('fails the chain checks when the gateway runs without a chain', async () => {
    const res = await post(withoutChain, { receipt: genuine.receipt.jws });
    expect(res.json().ok).toBe(false);
    expect(summary(res.json())).toEqual(['signature:true', 'attestation:true', 'weights:false', 'order:false', 'inclusion:false']);
    expect(res.json().checks.slice(2).map((c: { detail: string }) => c.detail)).toEqual([
      'not checked: no chain RPC to read from',
      expect.stringContaining('no expected consumer'),
      'not checked: no chain RPC to read from',
    ]);
  });
});
