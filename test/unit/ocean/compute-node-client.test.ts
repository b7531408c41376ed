// The compute node client against a fake node on a local socket: how each kind of failure maps to a
// retryable or permanent error, and what it signs (ocean-node's consumer + nonce + command message).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Wallet, verifyMessage } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ComputeNodeError, consumerMessage, createComputeNodeClient } from '../../../src/ocean/compute-node-client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end('[]');
let server: Server;
let url: string;
const wallet = Wallet.createRandom();
const client = (timeoutMs = 2000, base = url) =>
  createComputeNodeClient({ baseUrl: base, consumerAddress: wallet.address, sign: (m) => wallet.signMessage(m), timeoutMs });
const reply = (status: number, body: string) => (handler = (_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
const failure = (p: Promise<unknown>) => p.then(() => expect.fail('no error'), (err: unknown) => err as ComputeNodeError);

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('compute node client', () => {
  it('maps a refused connection, a timeout and a 5xx to retryable errors', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    expect(await failure(client(2000, deadUrl).environments())).toMatchObject({ code: 'node_unreachable', retryable: true });

    handler = () => {}; // never answers
    expect(await failure(client(150).environments())).toMatchObject({ code: 'node_timeout', retryable: true });

    reply(503, '"Service Unavailable"');
    expect(await failure(client().environments())).toMatchObject({ code: 'node_error', retryable: true, httpStatus: 503 });
  });

  it("maps a 4xx to a permanent error carrying the node's message, and a malformed answer too", async () => {
    reply(400, '"Missing algorithm"');
    const refused = await failure(client().initialize({ datasets: [], algorithm: {}, environment: 'e', payment: { chainId: 1, token: '0x' }, maxJobDuration: 60 }));
    expect(refused).toMatchObject({ code: 'node_refused', retryable: false, httpStatus: 400 });
    expect(refused.message).toContain('Missing algorithm');

    reply(200, '{"not":"a list"}');
    expect(await failure(client().status('abc'))).toMatchObject({ code: 'node_bad_response', retryable: false });
  });

  it("signs start with the consumer wallet over ocean-node's message, with increasing nonces", async () => {
    const bodies: Array<Record<string, string>> = [];
    handler = (req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        bodies.push(JSON.parse(raw));
        res.end(JSON.stringify([{ owner: wallet.address, jobId: `h-${bodies.length}`, dateCreated: '1', dateFinished: null, status: 0, statusText: 'Job started', results: [] }]));
      });
    };
    const c = client();
    const request = { datasets: [], algorithm: {}, environment: 'e', payment: { chainId: 1, token: '0x' }, maxJobDuration: 60, resources: [] };
    expect((await c.start(request)).jobId).toBe('h-1');
    await c.start(request);
    const [a, b] = bodies;
    expect(a.consumerAddress).toBe(wallet.address);
    expect(verifyMessage(consumerMessage(wallet.address, a.nonce, 'startCompute'), a.signature)).toBe(wallet.address);
    // Signed for another command, the same signature names someone else.
    expect(verifyMessage(consumerMessage(wallet.address, a.nonce, 'stopCompute'), a.signature)).not.toBe(wallet.address);
    expect(BigInt(b.nonce)).toBeGreaterThan(BigInt(a.nonce));
  });
});
