import { Wallet, getBytes, solidityPackedKeccak256, toUtf8String } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  decodeProviderData,
  encodeProviderData,
  providerFeeHash,
  recoverProviderFeeSigner,
  signProviderFee,
} from '../../../src/ocean/provider-fee.js';

const provider = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const datatoken = '0x00000000000000000000000000000000000000d7';
const ocean = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

describe('provider fee', () => {
  it('is signed by the provider and recovers to its address', async () => {
    const fee = await signProviderFee(provider, { datatokenAddress: datatoken, serviceId: 'svc-1', feeToken: ocean, validForSeconds: 600 });
    expect(fee.providerFeeAddress).toBe(provider.address);
    expect(fee.providerFeeAmount).toBe(0n);
    expect(fee.validUntil).toBe(600n);
    expect([27, 28]).toContain(fee.v);
    expect(recoverProviderFeeSigner(fee)).toBe(provider.address);
  });

  it('hashes the fields exactly as the contract packs them', async () => {
    const fee = await signProviderFee(provider, { datatokenAddress: datatoken, serviceId: 's', feeToken: ocean, amount: 5n, validForSeconds: 60 });
    const expected = solidityPackedKeccak256(
      ['bytes', 'address', 'address', 'uint256', 'uint256'],
      [fee.providerData, provider.address, ocean, 5n, 60n],
    );
    expect(providerFeeHash(fee)).toBe(expected);
    // The signature is over the raw 32 bytes (eth_sign), not over the hex string.
    const signedBytes = await provider.signMessage(getBytes(expected));
    expect(fee.r).toBe(`0x${signedBytes.slice(2, 66)}`);
  });

  it('no longer recovers to the provider once a field is tampered with', async () => {
    const fee = await signProviderFee(provider, { datatokenAddress: datatoken, serviceId: 's', feeToken: ocean, validForSeconds: 60 });
    expect(recoverProviderFeeSigner({ ...fee, providerFeeAmount: 1n })).not.toBe(provider.address);
    expect(recoverProviderFeeSigner({ ...fee, validUntil: 61n })).not.toBe(provider.address);
    expect(recoverProviderFeeSigner({ ...fee, providerData: encodeProviderData(datatoken, 'other') })).not.toBe(provider.address);
  });

  it('carries { dt, id } as utf8 JSON, like ocean-node', () => {
    const mixed = '0x5FC8d32690cc91D4c39d9d3abcBD16989F875707';
    const data = encodeProviderData(mixed.toLowerCase(), 'svc-9');
    // The datatoken is written checksummed whatever case it came in.
    expect(JSON.parse(toUtf8String(data))).toEqual({ dt: mixed, id: 'svc-9' });
    expect(decodeProviderData(data)).toEqual({ dt: mixed, id: 'svc-9' });
    expect(decodeProviderData('0x1234')).toBeUndefined();
  });

  it('refuses a negative or fractional duration', async () => {
    await expect(signProviderFee(provider, { datatokenAddress: datatoken, serviceId: 's', feeToken: ocean, validForSeconds: -1 })).rejects.toThrow(RangeError);
    await expect(signProviderFee(provider, { datatokenAddress: datatoken, serviceId: 's', feeToken: ocean, validForSeconds: 1.5 })).rejects.toThrow(RangeError);
  });
});
