// Peers measured on this machine in the same run as bench/overhead.ts: the Portkey AI gateway
// (@portkey-ai/gateway, installed by this script into a temporary folder, never a dependency) in
// front of a mock OpenAI upstream that answers after 20 ms, and a bare Fastify hello-world. Overhead
// = latency − the upstream's 20 ms. Prints p50/p95/p99 at concurrency 1 and 16, requests/s, RSS.
//   npx tsx bench/peers.ts [requests at c=1 = 200]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { percentile } from './bench-setup.js';

const N1 = Number(process.argv[2] ?? 200);
const UPSTREAM_MS = 20;
const f = (x: number) => x.toFixed(1);
const stats = (xs: number[]) => `${f(percentile(xs, 50))} / ${f(percentile(xs, 95))} / ${f(percentile(xs, 99))}`;
const rssOf = async (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1] ?? 0) / 1024);

async function load(call: () => Promise<void>, concurrency: number, total: number) {
  let next = 0;
  const ms: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const t = performance.now();
        await call();
        ms.push(performance.now() - t);
      }
    }),
  );
  return { ms, rps: total / ((performance.now() - started) / 1000) };
}

// A mock OpenAI upstream: every chat completion answers after UPSTREAM_MS.
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () =>
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'cmpl-mock',
          object: 'chat.completion',
          created: 0,
          model: 'mock',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hello from the mock upstream' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 4, completion_tokens: 16, total_tokens: 20 },
        }),
      );
    }, UPSTREAM_MS),
  );
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;

const rows: string[] = [];
const work = await mkdtemp(join(tmpdir(), 'posthuman-peers-'));
try {
  // Portkey, installed here and started as its own process on a free port.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', '--prefix', work, '@portkey-ai/gateway@1.15.2'], { stdio: 'ignore' });
  const port = 18787 + Math.floor(Math.random() * 1000);
  const portkey = spawn(process.execPath, [join(work, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${port}`, '--headless'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port) },
  });
  // However the measurement ends, the Portkey process goes with it.
  process.on('exit', () => portkey.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (await fetch(base).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const body = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 16 });
  const viaPortkey = async () => {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamUrl, authorization: 'Bearer sk-mock' },
      body,
    });
    if (res.status !== 200) throw new Error(`portkey answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  };
  await load(viaPortkey, 4, 100);
  const idle = await rssOf(portkey.pid ?? 0);
  const p1 = await load(viaPortkey, 1, N1);
  const p16 = await load(viaPortkey, 16, N1 * 4);
  const loaded = await rssOf(portkey.pid ?? 0);
  portkey.kill('SIGTERM');
  const over = (xs: number[]) => xs.map((x) => x - UPSTREAM_MS);
  rows.push(`| Portkey gateway over a ${UPSTREAM_MS} ms mock upstream | ${stats(over(p1.ms))} | ${stats(over(p16.ms))} | ${f(p1.rps)} | ${f(p16.rps)} | ${idle} / ${loaded} |`);

  // A bare Fastify hello-world in this process: the floor of one HTTP round trip here.
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ hello: 'world' }));
  const hello = await app.listen({ port: 0, host: '127.0.0.1' });
  const call = async () => {
    await (await fetch(hello)).arrayBuffer();
  };
  await load(call, 4, 200);
  const h1 = await load(call, 1, N1 * 2);
  const h16 = await load(call, 16, N1 * 10);
  rows.push(`| bare Fastify hello-world (latency, no upstream) | ${stats(h1.ms)} | ${stats(h16.ms)} | ${f(h1.rps)} | ${f(h16.rps)} | — |`);
  await app.close();
} finally {
  upstream.close();
  await rm(work, { recursive: true, force: true });
}
console.log('\nPeers on this machine, same run');
console.log('| system | overhead p50/p95/p99 c=1 (ms) | c=16 (ms) | req/s c=1 | req/s c=16 | RSS idle / load (MiB) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
