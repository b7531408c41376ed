// A dataset published as a compute-only Ocean asset on a real local chain: the sha256 of its bytes on
// the NFT (read back from the chain), a DDO that Ocean's ddo-js accepts whose files only the provider
// can decrypt and which names the content by hash, idempotent and race-free publishing, and every
// refusal (someone else's, deleted, unknown, wrong scope, no chain) as problem+json naming the field.
// Every upload carries a marker that no answer and no byte on chain may contain.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBytes, hexlify, toUtf8String } from 'ethers';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainSetup } from '../../../src/ocean/chain-setup.js';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { generateDid, metaDataHash } from '../../../src/ocean/ddo-builder.js';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { readContentSha256FromChain, readWeightsSha256FromChain } from '../../../src/ocean/model-publisher.js';
import { decryptServiceFiles } from '../../../src/ocean/service-files.js';
import { createFundedAccount, createTestApp, type TestApp } from '../../helpers/test-app.js';

const MARK = `wombat-${randomBytes(6).toString('hex')}-stays-home`;
const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-dataset-publish-'));
let ocean: EmbeddedOcean;
let t: TestApp;
/** The same gateway without a chain (CHAIN=off). */
let offChain: TestApp;
type Account = Awaited<ReturnType<typeof createFundedAccount>>;
let alice: Account;
let bob: Account;
let aliceReadOnly: Account;
const answers: string[] = [];

const chain = (): ChainSetup => ({ mode: 'embedded', config: ocean.config, stop: async () => {} });

beforeAll(async () => {
  ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  t = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', ANCHOR_INTERVAL_MS: '0' }, undefined, chain());
  offChain = await createTestApp();
  alice = await createFundedAccount(t, { name: 'alice', scopes: ['infer', 'finetune'] });
  bob = await createFundedAccount(t, { name: 'bob', scopes: ['infer', 'finetune'] });
  aliceReadOnly = await createFundedAccount(t, { name: 'alice read-only', scopes: ['infer'] });
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await offChain?.close();
  await t?.close();
  await ocean?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(app: TestApp, options: InjectOptions): Promise<LightMyRequestResponse> {
  const res = await app.app.inject(options);
  answers.push(`${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`);
  return res;
}

async function upload(app: TestApp, who: Account, query: string) {
  const text = `The lighthouse log says ${MARK}.\n<|endoftext|>\nShips rounded the point at noon.\n`;
  const res = await call(app, { method: 'POST', url: `/v1/datasets?${query}`, headers: { ...who.headers, 'content-type': 'text/plain' }, payload: text });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; sha256: string };
}

const publish = (app: TestApp, headers: Record<string, string>, id: string) => call(app, { method: 'POST', url: `/v1/datasets/${id}/publish`, headers });

function expectProblem(res: LightMyRequestResponse, status: number, code: string, field?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toContain('application/problem+json');
  expect(res.json()).toMatchObject({ status, code, ...(field ? { field } : {}) });
}

interface OceanBlock {
  chain_id: number;
  did: string;
  nft_address: string;
  datatoken_address: string;
  content_sha256: string;
  tx_hashes: Record<string, string>;
}

describe('POST /v1/datasets/{id}/publish', () => {
  let dataset: { id: string; sha256: string };
  let asset: OceanBlock;

  it('publishes the owner’s dataset once, however many calls race: 201 for the one that published, 200 with the same asset for the others', async () => {
    dataset = await upload(t, alice, 'name=lighthouse%20log&listed=true&price_per_job=100');
    const answersOf = await Promise.all([publish(t, alice.headers, dataset.id), publish(t, alice.headers, dataset.id)]);
    expect(answersOf.map((r) => r.statusCode).sort()).toEqual([200, 201]);
    const [first, second] = answersOf.map((r) => r.json());
    expect(first).toMatchObject({ id: dataset.id, object: 'dataset', sha256: dataset.sha256, owned_by_you: true });
    asset = first.ocean;
    expect(asset).toMatchObject({
      chain_id: ocean.config.chainId,
      did: expect.stringMatching(/^did:op:[0-9a-f]{64}$/),
      nft_address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      datatoken_address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      content_sha256: dataset.sha256,
    });
    expect(Object.keys(asset.tx_hashes).sort()).toEqual(['create', 'setDatasetHash', 'setMetadata']);
    expect(second.ocean).toEqual(asset);
    expect(asset.did).toBe(generateDid(asset.nft_address, ocean.config.chainId));

    const again = await publish(t, alice.headers, dataset.id);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().ocean).toEqual(asset);
    const shown = await call(t, { method: 'GET', url: `/v1/datasets/${dataset.id}`, headers: bob.headers });
    expect(shown.json()).toMatchObject({ owned_by_you: false, owner_account_id: null, ocean: asset });
  });

  it('stores the sha256 of the bytes on the NFT under posthuman.dataset_sha256, not as model weights', async () => {
    const provider = t.app.ocean!.client.provider;
    expect(await readContentSha256FromChain(provider, asset.nft_address, 'dataset')).toBe(dataset.sha256);
    expect(await readWeightsSha256FromChain(provider, asset.nft_address)).toBeNull();
    for (const hash of Object.values(asset.tx_hashes)) expect((await provider.getTransactionReceipt(hash))?.status).toBe(1);
  });

  it('sets a DDO that ddo-js validates, hashed as ocean-node checks it, with one compute service whose files only the provider can read', async () => {
    const provider = t.app.ocean!.client.provider;
    const nft = contractInterface('ERC721Template');
    const receipt = await provider.getTransactionReceipt(asset.tx_hashes.setMetadata);
    const created = receipt!.logs.map((l) => nft.parseLog(l)).find((e) => e?.name === 'MetadataCreated');
    const bytes = getBytes(created!.args.data);
    expect(created!.args.metaDataHash).toBe(metaDataHash(bytes));
    const text = toUtf8String(bytes);
    expect(text).not.toContain(MARK);
    expect(text).not.toContain('lighthouse log says');
    const ddo = JSON.parse(text);
    // Ocean's own validator, called directly (as ocean-node's indexer does).
    const { DDOManager } = await import('@oceanprotocol/ddo-js');
    const [valid, errors] = await DDOManager.getDDOClass(ddo).validate();
    expect(valid, JSON.stringify(errors)).toBe(true);
    expect(ddo).toMatchObject({ id: asset.did, chainId: ocean.config.chainId, nftAddress: asset.nft_address });
    expect(ddo.metadata).toMatchObject({ type: 'dataset', name: 'lighthouse log', additionalInformation: { dataset_sha256: dataset.sha256 } });
    expect(ddo.metadata.additionalInformation.weights_sha256).toBeUndefined();
    expect(ddo.services).toHaveLength(1);
    const [service] = ddo.services;
    expect(service).toMatchObject({ type: 'compute', datatokenAddress: asset.datatoken_address, compute: { allowRawAlgorithm: false, allowNetworkAccess: false } });
    expect(service.compute.publisherTrustedAlgorithms).toHaveLength(1);
    // The files are ciphertext; with the provider's key they name the content by hash, in the marketplace's own store.
    expect(hexlify(getBytes(service.files))).toBe(service.files);
    expect(decryptServiceFiles(service.files, ocean.config.providerPrivateKey)).toEqual({
      nftAddress: asset.nft_address,
      datatokenAddress: asset.datatoken_address,
      files: [{ type: 'url', url: `posthuman://datasets/sha256/${dataset.sha256}`, method: 'GET' }],
    });
  });

  it('refuses someone else’s dataset (403 listed, 404 unlisted), a deleted or unknown one (404), a key without finetune, no key', async () => {
    expectProblem(await publish(t, bob.headers, dataset.id), 403, 'forbidden', 'params.id');
    const unlisted = await upload(t, alice, 'name=private%20notes');
    expectProblem(await publish(t, bob.headers, unlisted.id), 404, 'dataset_not_found', 'params.id');
    expectProblem(await publish(t, aliceReadOnly.headers, unlisted.id), 403, 'forbidden');
    expectProblem(await publish(t, {}, unlisted.id), 401, 'unauthorized');
    expectProblem(await publish(t, alice.headers, '00000000-0000-4000-8000-000000000000'), 404, 'dataset_not_found', 'params.id');
    expectProblem(await publish(t, alice.headers, 'not-a-uuid'), 400, 'validation_failed');
    const deleted = await call(t, { method: 'DELETE', url: `/v1/datasets/${unlisted.id}`, headers: alice.headers });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expectProblem(await publish(t, alice.headers, unlisted.id), 404, 'dataset_not_found', 'params.id');
    const row = await call(t, { method: 'GET', url: `/v1/datasets/${unlisted.id}`, headers: alice.headers });
    expect(row.statusCode).toBe(404);
  });

  it('is a 503 chain_unavailable on a gateway without a chain, after the same ownership checks', async () => {
    const carol = await createFundedAccount(offChain, { name: 'carol', scopes: ['finetune'] });
    const own = await upload(offChain, carol, 'name=offline');
    expectProblem(await publish(offChain, carol.headers, own.id), 503, 'chain_unavailable');
    expectProblem(await publish(offChain, carol.headers, '00000000-0000-4000-8000-000000000000'), 404, 'dataset_not_found', 'params.id');
    const view = await call(offChain, { method: 'GET', url: `/v1/datasets/${own.id}`, headers: carol.headers });
    expect(view.json().ocean).toBeNull();
  });

  it('never answered with the content', () => {
    expect(answers.length).toBeGreaterThan(10);
    for (const answer of answers) expect(answer).not.toContain(MARK);
  });
});
