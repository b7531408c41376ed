import { describe, expect, it } from 'vitest';
import { describeChainConfig, readOceanChainSettings } from '../../../src/ocean/chain-config.js';
import { publishedAddresses } from '../../../src/ocean/ocean-addresses.js';

const KEY_A = `0x${'11'.repeat(32)}`;
const KEY_B = `0x${'22'.repeat(32)}`;

describe('Ocean chain settings', () => {
  it('needs OCEAN_RPC_URL for a real network', () => {
    expect(() => readOceanChainSettings({ POSTHUMAN_DATA_DIR: '/tmp/ph' })).toThrow(/OCEAN_RPC_URL/);
  });

  it('needs the consumer and provider keys for an external RPC, naming the variable', () => {
    expect(() => readOceanChainSettings({ OCEAN_RPC_URL: 'http://node:8545' })).toThrow(/OCEAN_CONSUMER_KEY/);
    expect(() => readOceanChainSettings({ OCEAN_RPC_URL: 'http://node:8545', OCEAN_CONSUMER_KEY: KEY_A })).toThrow(/OCEAN_PROVIDER_KEY/);
    expect(() => readOceanChainSettings({ OCEAN_RPC_URL: 'http://node:8545', OCEAN_CONSUMER_KEY: 'nope', OCEAN_PROVIDER_KEY: KEY_B })).toThrow(
      expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining('OCEAN_CONSUMER_KEY') }),
    );
    expect(() => readOceanChainSettings({ OCEAN_RPC_URL: 'ftp://x' })).toThrow(/OCEAN_RPC_URL/);
  });

  it('lets the publisher key and marketplace address default to the consumer', () => {
    const s = readOceanChainSettings({ OCEAN_RPC_URL: 'https://rpc', OCEAN_CONSUMER_KEY: KEY_A.slice(2), OCEAN_PROVIDER_KEY: KEY_B, OCEAN_CHAIN_ID: '137' });
    expect(s.publisherPrivateKey).toBe(KEY_A);
    expect(s.chainId).toBe(137);
    expect(s.marketplaceFeeAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it('describes a config without any private key', () => {
    const text = JSON.stringify(
      describeChainConfig({
        rpcUrl: 'http://x',
        chainId: 1,
        addresses: publishedAddresses(137),
        consumerPrivateKey: KEY_A,
        providerPrivateKey: KEY_B,
        publisherPrivateKey: KEY_A,
        marketplaceFeeAddress: '0x0000000000000000000000000000000000000001',
        serviceEndpoint: 'http://x',
      }),
    );
    expect(text).not.toContain('1111111111');
    expect(text).not.toContain('2222222222');
  });

  it("reads Ocean's published addresses by chain id", () => {
    expect(publishedAddresses(137).Ocean).toBe('0x282d8efCe846A88B159800bd4130ad77443Fa1A1');
    expect(() => publishedAddresses(8996)).toThrow(expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining('OCEAN_ADDRESS_FILE') }));
  });

  it('names the network, the missing contract and the remedy when an address book falls short', () => {
    // Ocean's book lists Base (8453) without an Ocean token: a clear start-up error, not a crash later.
    expect(() => publishedAddresses(8453)).toThrow(
      expect.objectContaining({
        code: 'config_invalid',
        message: expect.stringMatching(/no "Ocean" contract address for chain 8453 \("base"\).*OCEAN_ADDRESS_FILE/),
      }),
    );
    for (const chainId of [11155111, 23294, 23295]) expect(publishedAddresses(chainId).ERC721Factory).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it('leaves the service endpoint unset unless configured (checked against the chain later)', () => {
    const base = { OCEAN_RPC_URL: 'https://rpc', OCEAN_CONSUMER_KEY: KEY_A, OCEAN_PROVIDER_KEY: KEY_B };
    expect(readOceanChainSettings(base).serviceEndpoint).toBeUndefined();
    expect(readOceanChainSettings({ ...base, PUBLIC_BASE_URL: 'https://gw.example.com' }).serviceEndpoint).toBe('https://gw.example.com');
    expect(readOceanChainSettings({ ...base, PUBLIC_BASE_URL: 'https://a', OCEAN_SERVICE_ENDPOINT: 'https://b' }).serviceEndpoint).toBe('https://b');
  });
});
