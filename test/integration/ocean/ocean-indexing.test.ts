// A published model read back the way Ocean's own software reads it, on a real local chain: the
// checks ocean-node's indexer runs on MetadataCreated (factory NFT, DID, unencrypted-DDO hash,
// ddo-js validation), ocean-node's compute initialize decrypting the service files with the
// provider's key, and ocean.js `Nft.getData` reading the ERC725 values. A DDO Ocean's validator
// refuses is never sent.
import { createHash } from 'node:crypto';
import { DDOManager } from '@oceanprotocol/ddo-js';
import { Nft } from '@oceanprotocol/lib';
import { decrypt as eciesDecrypt } from 'eciesjs';
import { Wallet, getAddress, getBytes, toUtf8String } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractInterface } from '../../../src/ocean/contract-artifacts.js';
import { OCEAN_JS_DATA_KEYS, type PublishedModel } from '../../../src/ocean/model-publisher.js';
import { type OceanFixture, RUNTIME, startOceanFixture } from './ocean-fixture.js';

let fx: OceanFixture;
let parent: PublishedModel;
let child: PublishedModel;
const weights = 'c3'.repeat(32);

beforeAll(async () => {
  fx = await startOceanFixture();
  const base = { serviceTimeout: 3600, trustedAlgorithm: RUNTIME, pricing: { type: 'free' } as const };
  parent = await fx.client.models.publishModel({ ...base, name: 'Indexed GPT', weightsSha256: weights });
  child = await fx.client.models.publishModel({
    ...base,
    name: 'Indexed GPT, fine-tuned',
    weightsSha256: 'd4'.repeat(32),
    parent: { did: parent.did, nftAddress: parent.nftAddress, weightsSha256: weights },
  });
});

afterAll(async () => {
  await fx?.stop();
});

const call = async (to: string, name: string, args: unknown[] = [], contract: 'ERC721Template' | 'ERC721Factory' = 'ERC721Template') => {
  const iface = contractInterface(contract);
  return iface.decodeFunctionResult(name, await fx.client.provider.call({ to, data: iface.encodeFunctionData(name, args) }));
};

describe('what ocean-node indexes', () => {
  it('passes the indexer: factory NFT, DID, metaDataHash over the hex text, ddo-js', async () => {
    const receipt = await fx.client.provider.getTransactionReceipt(parent.txHashes.setMetadata);
    const nftIface = contractInterface('ERC721Template');
    const created = receipt!.logs.map((l) => nftIface.parseLog(l)).find((e) => e?.name === 'MetadataCreated')!;
    // wasNFTDeployedByOurFactory: the factory's erc721List maps the NFT to itself.
    const [listed] = await call(fx.client.addresses.ERC721Factory, 'erc721List', [parent.nftAddress], 'ERC721Factory');
    expect(getAddress(listed)).toBe(parent.nftAddress);
    // Unencrypted (flags & 2 == 0): the data is the UTF-8 JSON, hashed as checkDdoHash does.
    expect(Number(created.args.flags) & 2).toBe(0);
    const ddo = JSON.parse(toUtf8String(getBytes(created.args.data)));
    const hexText = `0x${Buffer.from(JSON.stringify(ddo), 'utf8').toString('hex')}`;
    const expectedHash = `0x${createHash('sha256').update(hexText).digest('hex')}`;
    expect(created.args.metaDataHash).toBe(expectedHash);
    const instance = DDOManager.getDDOClass(ddo);
    expect(ddo.id).toBe(instance.makeDid(parent.nftAddress, String(fx.client.chainId)));
    expect(await instance.validate()).toEqual([true, {}]);
    const [, , state] = await call(parent.nftAddress, 'getMetaData');
    expect(Number(state)).toBe(0);
    expect(created.args.decryptorUrl).toBe(ddo.services[0].serviceEndpoint);
  });

  it("decrypts the service's files with the provider key, as ocean-node's compute initialize does", async () => {
    const { files } = parent.ddo.services[0];
    const providerKey = fx.ocean.config.providerPrivateKey;
    const plain = JSON.parse(Buffer.from(eciesDecrypt(getBytes(providerKey), getBytes(files))).toString('utf8'));
    expect(plain).toEqual({
      datatokenAddress: parent.datatokenAddress,
      nftAddress: parent.nftAddress,
      files: [{ type: 'url', url: `posthuman://weights/sha256/${weights}`, method: 'GET' }],
    });
    expect(() => eciesDecrypt(getBytes(Wallet.createRandom().privateKey), getBytes(files))).toThrow();
  });

  it('reads the ERC725 values back with ocean.js Nft.getData', async () => {
    const reader = new Nft(new Wallet(fx.ocean.chain.accounts[4].privateKey, fx.client.provider) as never, fx.client.chainId);
    expect(await reader.getData(parent.nftAddress, OCEAN_JS_DATA_KEYS.weightsSha256)).toBe(weights);
    expect(await reader.getData(child.nftAddress, OCEAN_JS_DATA_KEYS.weightsSha256)).toBe('d4'.repeat(32));
    expect(await reader.getData(child.nftAddress, OCEAN_JS_DATA_KEYS.parentNft)).toBe(parent.nftAddress);
    // And the project's own readers agree.
    expect(await fx.client.readWeightsSha256(child.nftAddress)).toBe('d4'.repeat(32));
  });
});

describe('a DDO Ocean refuses', () => {
  it("stops the publish before any transaction, with the validator's message", async () => {
    const before = await fx.client.provider.getTransactionCount(fx.client.publisherAddress, 'pending');
    const refused = await fx.client.models
      .publishModel({ serviceTimeout: 3600, trustedAlgorithm: RUNTIME, pricing: { type: 'free' }, name: 'Bad', description: 'carriage\rreturn', weightsSha256: weights })
      .catch((err) => err);
    expect(refused).toMatchObject({ code: 'ddo_invalid', message: expect.stringContaining('metadata: Value does not have shape') });
    expect(await fx.client.provider.getTransactionCount(fx.client.publisherAddress, 'pending')).toBe(before);
  });
});
