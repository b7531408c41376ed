// What ocean-node does with a DDO we publish, done here with Ocean's own libraries: ddo-js validates
// it (as the indexer does), and eciesjs decrypts the compute service's files with the provider's key
// (as ocean-node's compute initialize does). And the endpoint written into it must be public.
import { decrypt as eciesDecrypt } from 'eciesjs';
import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { buildComputeDdo, generateDid } from '../../../src/ocean/ddo-builder.js';
import { assertValidDdo, describeDdoErrors } from '../../../src/ocean/ddo-validation.js';
import { checkServiceEndpoint, isPrivateHost } from '../../../src/ocean/service-endpoint.js';
import { decryptServiceFiles, encryptServiceFiles, providerPublicKey, serviceFilesObject } from '../../../src/ocean/service-files.js';

const provider = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const nft = '0x440c0fcdc317d69606eabc35c0f676d1a8251ee1';
const datatoken = '0x5fc8d32690cc91d4c39d9d3abcbd16989f875707';
const weights = 'ab'.repeat(32);

function ddo(overrides: { name?: string; serviceEndpoint?: string } = {}) {
  const files = encryptServiceFiles(serviceFilesObject({ nftAddress: nft, datatokenAddress: datatoken, weightsSha256: weights }), providerPublicKey(provider.privateKey));
  return buildComputeDdo({
    nftAddress: nft,
    chainId: 11155111,
    datatokenAddress: datatoken,
    serviceId: 'svc',
    name: overrides.name ?? 'Tiny GPT',
    weightsSha256: weights,
    serviceTimeout: 3600,
    serviceEndpoint: overrides.serviceEndpoint ?? 'https://gateway.example.com',
    files,
    trustedAlgorithm: { did: 'did:op:runtime', filesChecksum: 'f'.repeat(64), containerSectionChecksum: 'c'.repeat(64) },
  });
}

describe('compute service files', () => {
  it('decrypt with eciesjs and the provider key, exactly as ocean-node does at initialize', () => {
    const { files } = ddo().services[0];
    expect(files).toMatch(/^0x[0-9a-f]+$/);
    const plain = JSON.parse(Buffer.from(eciesDecrypt(Buffer.from(provider.privateKey.slice(2), 'hex'), Buffer.from(files.slice(2), 'hex'))).toString('utf8'));
    expect(plain).toEqual({
      datatokenAddress: '0x5FC8d32690cc91D4c39d9d3abcBD16989F875707',
      nftAddress: '0x440C0fCDC317D69606eabc35C0F676D1a8251Ee1',
      files: [{ type: 'url', url: `posthuman://weights/sha256/${weights}`, method: 'GET' }],
    });
    expect(decryptServiceFiles(files, provider.privateKey)).toEqual(plain);
  });

  it('are unreadable with any other key, and differ on every encryption (fresh ephemeral key)', () => {
    const { files } = ddo().services[0];
    expect(() => decryptServiceFiles(files, Wallet.createRandom().privateKey)).toThrow();
    expect(ddo().services[0].files).not.toBe(files);
  });
});

describe("Ocean's DDO validator (ddo-js)", () => {
  it('accepts the compute DDO the publisher builds', async () => {
    const doc = ddo();
    expect(doc.id).toBe(generateDid(nft, 11155111));
    await expect(assertValidDdo(doc)).resolves.toBeUndefined();
  }, 30_000); // the first validation loads ddo-js's RDF stack and schemas

  it("refuses a broken DDO with the validator's own findings, field by field", async () => {
    const broken = ddo();
    broken.id = 'did:op:0000';
    delete (broken.metadata as { name?: string }).name;
    const failure = await assertValidDdo(broken).catch((err) => err);
    expect(failure).toMatchObject({ code: 'ddo_invalid' });
    expect(failure.message).toMatch(/id: did is not valid for chain Id and nft address/);
    expect(failure.message).toMatch(/metadata: Value does not have shape/);
    expect(failure.message).not.toMatch(/fullReport|ValidationReport/);
    expect(describeDdoErrors({ a: ['x', 'y'], fullReport: 'zzz' })).toBe('a: x, y');
  });
});

describe('service endpoint', () => {
  it('must be public on a public chain; a loopback or private address is fine only on a local chain', () => {
    expect(checkServiceEndpoint('https://gw.example.com/', 11155111)).toBe('https://gw.example.com');
    for (const local of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://10.1.2.3', 'http://192.168.0.9', 'http://[::1]:80', 'http://gateway:8080', 'http://host.docker.internal']) {
      expect(() => checkServiceEndpoint(local, 23294), local).toThrow(expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining('OCEAN_SERVICE_ENDPOINT') }));
      expect(checkServiceEndpoint(local, 8996)).toBe(new URL(local).href.replace(/\/$/, ''));
    }
    expect(() => checkServiceEndpoint(undefined, 11155111)).toThrow(/required on chain 11155111/);
    expect(() => checkServiceEndpoint('ftp://gw.example.com', 8996)).toThrow(/http/);
    expect(() => checkServiceEndpoint('https://user:pw@gw.example.com', 1)).toThrow(/credentials/);
    expect(isPrivateHost('172.20.0.1')).toBe(true);
    expect(isPrivateHost('172.32.0.1')).toBe(false);
    expect(isPrivateHost('8.8.8.8')).toBe(false);
  });
});
