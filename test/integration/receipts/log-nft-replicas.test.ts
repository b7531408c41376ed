// Gateway replicas share one transparency log, so they must anchor it on one NFT per chain: the NFT a
// verifier pins from marketplace.json. Two replicas asking for it at once get the same one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { createLogAnchoring } from '../../../src/receipts/log-anchoring.js';
import { logNfts } from '../../../src/receipts/receipts-schema.js';
import { createTestApp, type TestApp } from '../../helpers/test-app.js';

let ocean: EmbeddedOcean;
let dataDir: string;
let first: TestApp;
let second: TestApp;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'posthuman-log-nft-'));
  ocean = await startEmbeddedOcean({ dataDir, port: 0 });
  const chain = { mode: 'embedded' as const, config: ocean.config, stop: async () => {} };
  first = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', ANCHOR_INTERVAL_MS: '0' }, undefined, chain);
  second = await createTestApp({ POSTHUMAN_DATA_DIR: dataDir, ORDER_POOL_SIZE: '0', ANCHOR_INTERVAL_MS: '0' }, first.testDb, chain);
}, 120_000);

afterAll(async () => {
  await second?.close();
  await first?.close();
  await ocean?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it('gives two replicas asking at once, and a replica started later, the same log NFT, deployed once', async () => {
  const publisher = first.app.ocean!.client.publisherAddress;
  const sentBefore = await first.app.ocean!.client.provider.getTransactionCount(publisher, 'latest');
  const [a, b] = await Promise.all([first.app.logAnchoring!.nftAddress(), second.app.logAnchoring!.nftAddress()]);
  expect(a).toBe(b);
  expect(await first.app.ocean!.client.provider.getCode(a)).not.toBe('0x');
  // One deployment between them: one transaction from the publisher.
  expect(await first.app.ocean!.client.provider.getTransactionCount(publisher, 'latest')).toBe(sentBefore + 1);
  expect(await first.app.db.select().from(logNfts)).toMatchObject([{ chainId: ocean.config.chainId, nftAddress: a }]);

  // A replica that starts later (a fresh process: nothing cached) finds the recorded NFT.
  const later = createLogAnchoring({ db: second.app.db, log: second.app.transparencyLog, ocean: second.app.ocean!, logger: second.app.log });
  expect(await later.nftAddress()).toBe(a);
  // Both replicas' identity documents name it.
  for (const t of [first, second]) {
    const doc = (await t.app.inject({ method: 'GET', url: '/.well-known/posthuman-marketplace.json' })).json();
    expect(doc.log_nft_address).toBe(a);
  }
});
