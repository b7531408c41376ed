// Golden vectors for what Ocean's own software recomputes from our assets and orders. Each algorithm
// is re-implemented here from ocean-node's published code (node:crypto sha256, keccak-256 and raw
// secp256k1 signing as the only primitives; nothing from src/ocean), the project's output is compared
// with it, and both with literal values pinned below, so a change on either side is caught:
// - DID: Indexer/utils.ts getDid; metaDataHash: Indexer/processors/BaseProcessor.ts checkDdoHash;
// - provider fee: core/utils/feesHandler.ts createProviderFee (the hash the datatoken contract
//   ecrecovers in startOrder/reuseOrder) and verifyProviderFees (providerData { dt, id });
// - consumer request signature: core/utils/nonceHandler.ts validateNonceAndSignature, signed as
//   ocean.js utils/SignatureUtils.ts signRequest does.
import { createHash } from 'node:crypto';
import { SigningKey, Wallet, keccak256 } from 'ethers';
import { describe, expect, it } from 'vitest';
import { encodeDdo, generateDid, type ComputeDdo } from '../../../src/ocean/ddo-builder.js';
import { signNodeCommand, verifyNodeCommand } from '../../../src/ocean/node-auth.js';
import { providerFeeHash, signProviderFee } from '../../../src/ocean/provider-fee.js';

// Hardhat's public dev keys #1 and #2: test-only.
const PROVIDER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const CONSUMER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
const NFT = '0x440c0fcdc317d69606eabc35c0f676d1a8251ee1';
const DATATOKEN = '0x5fc8d32690cc91d4c39d9d3abcbd16989f875707';
const OCEAN_TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

// ---- primitives, written for this test ---------------------------------------------------------
const hex = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('hex');
const fromHex = (value: string) => Buffer.from(value.replace(/^0x/, ''), 'hex');
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const keccak = (data: Buffer) => fromHex(keccak256(data));

/** EIP-55 checksum casing. */
function checksum(address: string): string {
  const lower = address.toLowerCase().replace(/^0x/, '');
  const digest = hex(keccak(Buffer.from(lower, 'ascii')));
  return `0x${[...lower].map((c, i) => (Number.parseInt(digest[i], 16) >= 8 ? c.toUpperCase() : c)).join('')}`;
}

const uint256 = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
const addressBytes = (address: string) => fromHex(address);

/** eth_sign / personal_sign digest of `message` bytes, then a raw secp256k1 signature (v = 27/28). */
function ethSign(privateKey: string, message: Buffer): { r: string; s: string; v: number; serialized: string } {
  const digest = keccak(Buffer.concat([Buffer.from(`\x19Ethereum Signed Message:\n${message.length}`, 'utf8'), message]));
  const sig = new SigningKey(privateKey).sign(digest);
  const v = 27 + sig.yParity;
  return { r: sig.r, s: sig.s, v, serialized: `${sig.r}${sig.s.slice(2)}${v.toString(16)}` };
}

// ---- ocean-node's algorithms, re-implemented -----------------------------------------------------
const oceanNodeDid = (nft: string, chainId: number) => `did:op:${sha256(checksum(nft) + chainId.toString(10))}`;

/** checkDdoHash: create256Hash(hexlify(toUtf8Bytes(JSON.stringify(ddo)))). */
const oceanNodeMetadataHash = (ddo: unknown) => `0x${sha256(`0x${hex(Buffer.from(JSON.stringify(ddo), 'utf8'))}`)}`;

/** createProviderFee: solidityPackedKeccak256(bytes, address, address, uint256, uint256), signed over 32 bytes. */
function oceanNodeProviderFee(key: string, fee: { dt: string; id: string; token: string; amount: bigint; validUntil: bigint }) {
  const providerData = Buffer.from(JSON.stringify({ dt: checksum(fee.dt), id: fee.id }), 'utf8');
  const provider = new SigningKey(key);
  const providerAddress = checksum(`0x${hex(keccak(fromHex(provider.publicKey).subarray(1))).slice(24)}`);
  const packed = Buffer.concat([providerData, addressBytes(providerAddress), addressBytes(fee.token), uint256(fee.amount), uint256(fee.validUntil)]);
  const hash = keccak(packed);
  return { providerAddress, providerData: `0x${hex(providerData)}`, hash: `0x${hex(hash)}`, ...ethSign(key, hash) };
}

/** validateNonceAndSignature / signRequest: keccak(utf8(address + nonce + command)), signed as a minimal big-endian number. */
function oceanNodeCommandSignature(key: string, address: string, nonce: string, command: string) {
  const hash = keccak(Buffer.from(`${checksum(address)}${nonce}${command}`, 'utf8'));
  let start = 0;
  while (start < hash.length - 1 && hash[start] === 0) start++;
  return { hash: `0x${hex(hash)}`, ...ethSign(key, hash.subarray(start)) };
}

// A DDO written out literally (not by the builder): what ocean-node's indexer would read from chain.
const FIXTURE_DDO = {
  '@context': ['https://w3id.org/did/v1'],
  id: 'did:op:placeholder',
  version: '4.1.0',
  chainId: 8996,
  nftAddress: '0x440C0fCDC317D69606eabc35C0F676D1a8251Ee1',
  metadata: {
    created: '2025-01-02T03:04:05Z',
    updated: '2025-01-02T03:04:05Z',
    type: 'dataset',
    name: 'Tiny GPT ✓',
    description: 'Transformer model, compute-only',
    author: 'Posthuman Gateway',
    license: 'proprietary',
    additionalInformation: { weights_sha256: 'ab'.repeat(32) },
  },
  services: [
    {
      id: 'svc',
      type: 'compute',
      files: `0x${'ec'.repeat(16)}`,
      datatokenAddress: '0x5FC8d32690cc91D4c39d9d3abcBD16989F875707',
      serviceEndpoint: 'https://gateway.example.com',
      timeout: 3600,
      compute: { allowRawAlgorithm: false, allowNetworkAccess: false, publisherTrustedAlgorithmPublishers: [], publisherTrustedAlgorithms: [] },
    },
  ],
};

describe('golden vectors, re-implemented from ocean-node', () => {
  it('DID from NFT address and chain id', () => {
    const expected = 'did:op:be715b863ce9317499ab36ae4aeb711f1a9abad9733c05f73e5b6865871d7790';
    expect(oceanNodeDid(NFT, 8996)).toBe(generateDid(NFT, 8996));
    expect(generateDid(NFT, 8996)).toBe(expected);
    expect(generateDid(NFT.toUpperCase().replace('0X', '0x'), 8996)).toBe(expected);
    expect(generateDid(NFT, 23295)).toBe(oceanNodeDid(NFT, 23295));
  });

  it('metaDataHash: sha256 of the hex text of the UTF-8 DDO JSON', () => {
    const ddo = { ...FIXTURE_DDO, id: oceanNodeDid(NFT, 8996) } as unknown as ComputeDdo;
    const { bytes, hash } = encodeDdo(ddo);
    expect(Buffer.from(bytes).toString('utf8')).toBe(JSON.stringify(ddo));
    expect(hash).toBe(oceanNodeMetadataHash(ddo));
    expect(hash).toBe('0xaf397b4dba9577a229f01bdb29c138be233acfd5edee23912d65b6b53c5b4679');
    // Not the sha256 of the bytes themselves (what the project wrote before).
    expect(hash).not.toBe(`0x${sha256(Buffer.from(bytes))}`);
  });

  it('provider-fee hash and signature, as the datatoken contract recovers them', async () => {
    const request = { dt: DATATOKEN, id: 'svc-1', token: OCEAN_TOKEN, amount: 5n * 10n ** 17n, validUntil: 3600n };
    const expected = oceanNodeProviderFee(PROVIDER_KEY, request);
    const fee = await signProviderFee(new Wallet(PROVIDER_KEY), {
      datatokenAddress: request.dt,
      serviceId: request.id,
      feeToken: request.token,
      amount: request.amount,
      validForSeconds: Number(request.validUntil),
    });
    expect(fee.providerFeeAddress).toBe(expected.providerAddress);
    expect(fee.providerData).toBe(expected.providerData);
    expect(providerFeeHash(fee)).toBe(expected.hash);
    expect({ v: fee.v, r: fee.r, s: fee.s }).toEqual({ v: expected.v, r: expected.r, s: expected.s });
    expect(expected.hash).toBe('0xa79303689f6b4a7f33e03331b59491a4b3cd9600c27692c80733f3ebaa44071a');
    expect(`${expected.r}${expected.s.slice(2)}${expected.v.toString(16)}`).toBe(
      '0x4cdf4ca20d6f0f93a15af09505ac4b6dfffc49c436af07c73f3a95532260347631d56ccb1484c507bee029fada351de79b40bfe3a8070ef3466d4466dd7c0d131b',
    );
  });

  it('consumer request signature over (address, nonce, command)', async () => {
    const consumer = new Wallet(CONSUMER_KEY);
    const expected = oceanNodeCommandSignature(CONSUMER_KEY, consumer.address, '1732000000123', 'startCompute');
    const signed = await signNodeCommand(consumer, '1732000000123', 'startCompute');
    expect(signed).toEqual({ consumerAddress: consumer.address, nonce: '1732000000123', signature: expected.serialized });
    expect(signed.signature).toBe(
      '0xc2a7cbf1e574e4d6d47e9bf60243d303011be55ff03b313dff56ae63d1127a3d17929b8fa2365fd1134dc43fb34d51596eae88903d63004e65bfdf94d227f1481b',
    );
    expect(verifyNodeCommand(consumer.address, '1732000000123', 'startCompute', signed.signature)).toBe(true);
    expect(verifyNodeCommand(consumer.address, '1732000000124', 'startCompute', signed.signature)).toBe(false);
  });

  it('consumer request signature when the hash starts with a zero byte (signed as fewer than 32 bytes)', async () => {
    const consumer = new Wallet(CONSUMER_KEY);
    // 304 is the first nonce from 1 whose hash starts with 0x00 for this consumer and command.
    const nonce = 304;
    const expected = oceanNodeCommandSignature(CONSUMER_KEY, consumer.address, String(nonce), 'getComputeResult');
    expect(expected.hash.startsWith('0x00')).toBe(true);
    expect(expected.serialized).toBe(
      '0xfcd40f99b31960bd384f1674e8f2a065089117b79173a358050e30f0df0584b41418739cac1429d5921babb40dbb6fd7bdf727ef55690351741c74811f9f06421b',
    );
    const signed = await signNodeCommand(consumer, nonce, 'getComputeResult');
    expect(signed.signature).toBe(expected.serialized);
    expect(verifyNodeCommand(consumer.address, nonce, 'getComputeResult', signed.signature)).toBe(true);
  });
});
