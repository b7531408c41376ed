// Several RPC endpoints: requests move to the next one only when an endpoint cannot be reached, and
// every endpoint must serve the same chain.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOceanChainSettings } from '../../../src/ocean/chain-config.js';
import { FailoverJsonRpcProvider, agreeOnChainId, parseRpcUrls, redactRpcUrl } from '../../../src/ocean/rpc-endpoints.js';

interface FakeNode {
  url: string;
  calls: string[];
  server: Server;
}

/** A JSON-RPC endpoint answering eth_chainId and eth_blockNumber; `fail` makes it answer HTTP 502. */
async function fakeNode(chainId: number, block: number, behaviour: { fail?: boolean } = {}): Promise<FakeNode> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const { id, method } = JSON.parse(body);
      calls.push(method);
      if (behaviour.fail) {
        res.writeHead(502).end('bad gateway');
        return;
      }
      const result = method === 'eth_chainId' ? `0x${chainId.toString(16)}` : method === 'eth_blockNumber' ? `0x${block.toString(16)}` : undefined;
      const answer = result === undefined ? { jsonrpc: '2.0', id, error: { code: -32601, message: 'method not found' } } : { jsonrpc: '2.0', id, result };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

let down: FakeNode;
let good: FakeNode;
let other: FakeNode;
let closedUrl: string;

beforeAll(async () => {
  down = await fakeNode(8996, 1, { fail: true });
  good = await fakeNode(8996, 42);
  other = await fakeNode(137, 7);
  const closed = await fakeNode(8996, 1);
  closedUrl = closed.url;
  await new Promise((r) => closed.server.close(r));
});
afterAll(async () => {
  for (const node of [down, good, other]) await new Promise((r) => node.server.close(r));
});

describe('RPC endpoint lists', () => {
  it('parses a comma-separated list and refuses what ethers cannot speak, naming the variable', () => {
    expect(parseRpcUrls(' http://a:8545 , https://b/key ', 'CHAIN_RPC_URL')).toEqual(['http://a:8545', 'https://b/key']);
    expect(() => parseRpcUrls('wss://a', 'CHAIN_RPC_URL')).toThrow(/CHAIN_RPC_URL: wss: is not supported/);
    expect(() => parseRpcUrls('http://a,http://a', 'OCEAN_RPC_URL')).toThrow(/OCEAN_RPC_URL: the same URL/);
    expect(() => parseRpcUrls(',', 'OCEAN_RPC_URL')).toThrow(/no URL/);
    expect(readOceanChainSettings({ OCEAN_RPC_URL: 'https://a/k1,https://b/k2', OCEAN_CONSUMER_KEY: '11'.repeat(32), OCEAN_PROVIDER_KEY: '22'.repeat(32) }).rpcUrl).toBe(
      'https://a/k1,https://b/k2',
    );
  });

  it('never prints a path or query, where providers put API keys', () => {
    expect(redactRpcUrl('https://mainnet.infura.io/v3/abc123')).toBe('https://mainnet.infura.io/…');
    expect(redactRpcUrl('http://127.0.0.1:8545')).toBe('http://127.0.0.1:8545');
  });

  it('moves to the next endpoint when one is refused or failing, and stays there', async () => {
    const switches: Array<[number, number]> = [];
    const provider = new FailoverJsonRpcProvider([closedUrl, down.url, good.url], 8996, { timeoutMs: 2_000, onSwitch: (from, to) => switches.push([from, to]) });
    try {
      expect(await provider.getBlockNumber()).toBe(42);
      expect(switches).toEqual([[0, 2]]);
      expect(provider.activeIndex).toBe(2);
      const before = down.calls.length;
      expect(await provider.getBlockNumber()).toBe(42);
      expect(down.calls.length).toBe(before);
    } finally {
      provider.destroy();
    }
  });

  it('does not retry an answer elsewhere: a JSON-RPC error is the chain speaking', async () => {
    const provider = new FailoverJsonRpcProvider([good.url, other.url], 8996, { timeoutMs: 2_000 });
    try {
      await expect(provider.send('eth_unknownMethod', [])).rejects.toThrow(/method not found/);
      expect(other.calls).not.toContain('eth_unknownMethod');
    } finally {
      provider.destroy();
    }
  });

  it('fails with the last error when no endpoint answers', async () => {
    const provider = new FailoverJsonRpcProvider([closedUrl, down.url], 8996, { timeoutMs: 2_000 });
    try {
      await expect(provider.getBlockNumber()).rejects.toThrow();
    } finally {
      provider.destroy();
    }
  });

  it('needs every answering endpoint on the same chain, and one at least', async () => {
    expect(await agreeOnChainId([closedUrl, good.url], 'CHAIN_RPC_URL')).toBe(8996);
    await expect(agreeOnChainId([good.url, other.url], 'OCEAN_RPC_URL')).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringMatching(/OCEAN_RPC_URL: http:\/\/127\.0\.0\.1:\d+ serves chain 137, not 8996/),
    });
    await expect(agreeOnChainId([good.url], 'OCEAN_RPC_URL', 137)).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(agreeOnChainId([closedUrl, down.url], 'CHAIN_RPC_URL')).rejects.toMatchObject({ code: 'rpc_unavailable' });
  });
});
