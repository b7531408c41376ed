import { createHash } from 'node:crypto';
import { toUtf8String } from 'ethers';
import { describe, expect, it } from 'vitest';
import { buildComputeDdo, computeServiceId, encodeDdo, generateDid, normalizeSha256 } from '../../../src/ocean/ddo-builder.js';

const nft = '0x440c0fcdc317d69606eabc35c0f676d1a8251ee1';
const datatoken = '0x5fc8d32690cc91d4c39d9d3abcbd16989f875707';
const weights = 'AB'.repeat(32);
const runtime = { did: 'did:op:runtime', filesChecksum: 'f'.repeat(64), containerSectionChecksum: 'c'.repeat(64) };
const files = `0x${'ec'.repeat(100)}`;

function ddo() {
  return buildComputeDdo({
    nftAddress: nft,
    chainId: 8996,
    datatokenAddress: datatoken,
    serviceId: 'svc',
    name: 'Tiny GPT',
    weightsSha256: weights,
    serviceTimeout: 3600,
    serviceEndpoint: 'http://127.0.0.1:8080',
    files,
    trustedAlgorithm: runtime,
    created: new Date('2025-01-02T03:04:05.678Z'),
  });
}

describe('DID', () => {
  it('is did:op: + sha256(checksummed NFT address + decimal chain id), as ocean.js', () => {
    const expected = createHash('sha256').update('0x440C0fCDC317D69606eabc35C0F676D1a8251Ee1' + '8996').digest('hex');
    expect(generateDid(nft, 8996)).toBe(`did:op:${expected}`);
    expect(generateDid(nft.toUpperCase().replace('0X', '0x'), 8996)).toBe(`did:op:${expected}`);
    expect(generateDid(nft, 137)).not.toBe(`did:op:${expected}`);
  });
});

describe('compute DDO', () => {
  it('has one compute service that trusts only our runtime and allows no raw code or network', () => {
    const doc = ddo();
    expect(doc.version).toBe('4.1.0');
    expect(doc.id).toBe(generateDid(nft, 8996));
    expect(doc.nftAddress).toBe('0x440C0fCDC317D69606eabc35C0F676D1a8251Ee1');
    expect(doc.services).toHaveLength(1);
    const [service] = doc.services;
    expect(service.type).toBe('compute');
    expect(service.datatokenAddress).toBe('0x5FC8d32690cc91D4c39d9d3abcBD16989F875707');
    expect(service.timeout).toBe(3600);
    expect(service.files).toBe(files);
    expect(service.compute).toEqual({
      allowRawAlgorithm: false,
      allowNetworkAccess: false,
      publisherTrustedAlgorithmPublishers: [],
      publisherTrustedAlgorithms: [runtime],
    });
  });

  it('records the weights sha256 lower-cased and dates without milliseconds', () => {
    const doc = ddo();
    expect(doc.metadata.additionalInformation.weights_sha256).toBe('ab'.repeat(32));
    expect(doc.metadata.type).toBe('dataset');
    expect(doc.metadata.created).toBe('2025-01-02T03:04:05Z');
  });

  it('encodes to the bytes set on chain; metaDataHash is over their hex text (see ocean-golden-vectors)', () => {
    const { bytes, hash } = encodeDdo(ddo());
    expect(JSON.parse(toUtf8String(bytes)).id).toBe(generateDid(nft, 8996));
    expect(hash).toBe(`0x${createHash('sha256').update(`0x${Buffer.from(bytes).toString('hex')}`).digest('hex')}`);
    expect(hash).not.toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
    expect(encodeDdo(ddo()).hash).toBe(hash);
  });

  it('refuses an empty files field (ocean-node cannot decrypt it at compute initialize)', () => {
    expect(() => buildComputeDdo({ ...ddoInput(), files: '' })).toThrow(/files/);
    expect(() => buildComputeDdo({ ...ddoInput(), files: 'not hex' })).toThrow(/files/);
  });

  it('rejects a malformed weights hash or timeout', () => {
    expect(() => normalizeSha256('abc')).toThrow(RangeError);
    expect(() => normalizeSha256('g'.repeat(64))).toThrow(RangeError);
    expect(normalizeSha256(`0x${'A'.repeat(64)}`)).toBe('a'.repeat(64));
    expect(() => buildComputeDdo({ ...ddoInput(), serviceTimeout: -5 })).toThrow(RangeError);
  });

  it('gives a stable service id per datatoken and index', () => {
    expect(computeServiceId(datatoken)).toBe(computeServiceId(datatoken.toUpperCase().replace('0X', '0x')));
    expect(computeServiceId(datatoken, 1)).not.toBe(computeServiceId(datatoken, 0));
    expect(computeServiceId(datatoken)).toMatch(/^[0-9a-f]{64}$/);
  });
});

function ddoInput() {
  return {
    nftAddress: nft,
    chainId: 8996,
    datatokenAddress: datatoken,
    serviceId: 'svc',
    name: 'x',
    weightsSha256: weights,
    serviceTimeout: 1,
    serviceEndpoint: 'http://x',
    files,
    trustedAlgorithm: runtime,
  };
}
