// The zero-config chain: keys persist in the data dir (0600), chain state does not, and ocean.js
// reads the address file we write.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { createOceanClient } from '../../../src/ocean/ocean-client.js';
import { RUNTIME } from './ocean-fixture.js';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'posthuman-embedded-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('keeps wallet keys across restarts, re-deploys a fresh chain, and rewrites the address file', async () => {
  const first = await startEmbeddedOcean({ dataDir, port: 0 });
  const client = createOceanClient(first.config);
  let nftAddress: string;
  let did: string;
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
    expect(again.consumerAddress).toBe(client.consumerAddress);
    expect(again.providerAddress).toBe(client.providerAddress);
    expect(second.config.marketplaceFeeAddress).toBe(first.config.marketplaceFeeAddress);
    // Fresh chain: the model published before the restart is gone and must be published again.
    expect(await again.provider.getCode(nftAddress)).toBe('0x');
    await expect(again.readWeightsSha256(nftAddress)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect((await stat(second.addressFile)).mtimeMs).toBeGreaterThan(firstWritten);
  } finally {
    again.close();
    await second.stop();
  }
});
