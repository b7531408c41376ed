// The gateway's overhead, measured the way issue 12 states it: Postgres + Redis + one separate worker
// process, the chain on (its own process, automine) with the order pool, receipts on; overhead = end-to-end
// latency of POST /v1/infer minus the job's compute_ms. Prints p50/p95/p99 at concurrency 1 and 16,
// requests/s, RSS, and the per-step breakdown from JOB_SPANS_FILE spans (gateway and worker), so a
// change shows which step it moved. Never fails on a time.
//   npx tsx bench/overhead.ts [requests at c=1 = 60] [variant = all | full | bare]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const workDir = await mkdtemp(join(tmpdir(), 'posthuman-overhead-'));
const spansFile = join(workDir, 'spans.jsonl');
process.env.JOB_SPANS_FILE = spansFile; // read when the modules below load
const { buildTinyModel } = await import('../src/runtime/index.js');
const { startEntry } = await import('../test/helpers/child-process.js');
const { freePort } = await import('../scripts/soak/soak-cluster.js');
const { percentile, scratchDatabase, startBenchGateway, BENCH_REDIS_URL } = await import('./bench-setup.js');

const N1 = Number(process.argv[2] ?? 60);
const VARIANT = process.argv[3] ?? 'all';
const NEW_TOKENS = 16;
const PROMPTS = ['The quick brown fox', 'Once upon a time', 'In the beginning', 'Hello, my name is', 'The weather today is', 'A long time ago'];

const rssOf = async (pid: number) => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
};

interface Sample {
  id: string;
  ms: number;
  computeMs: number;
}

async function variant(name: string, chainOn: boolean) {
  const db = await scratchDatabase();
  const modelDir = join(workDir, 'model');
  await buildTinyModel(modelDir);
  // The chain runs as its own process (`npm run chain`), as deployed: in the gateway's process its
  // block production would share the event loop under measurement. It writes its address and
  // wallet files into the gateway's data dir, where the gateway and the worker read them.
  const chainProcess = chainOn
    ? startEntry('src/chain.ts', { CHAIN_PORT: String(await freePort()), POSTHUMAN_DATA_DIR: join(workDir, name, 'data'), LOG_LEVEL: 'warn' })
    : null;
  const rpcUrl = chainProcess ? (await chainProcess.waitFor(/CHAIN_RPC_URL=(\S+)/, 180_000))[1] : null;
  const env = {
    WORKER_IN_PROCESS: 'false',
    RECEIPTS: chainOn ? 'on' : 'off',
    ORDER_POOL_SIZE: '32',
    AUDIT_FRACTION: '0',
    ...(rpcUrl ? { CHAIN_RPC_URL: rpcUrl } : {}),
  };
  const gw = await startBenchGateway({ dbUrl: db.url, workDir: join(workDir, name), modelDir, redis: true, env, chain: chainOn ? 'attach' : null });
  const worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: db.url,
      REDIS_URL: BENCH_REDIS_URL,
      REDIS_PREFIX: gw.app.config.redisPrefix,
      POSTHUMAN_DATA_DIR: gw.app.config.dataDir,
      CHAIN: chainOn ? 'on' : 'off',
      ...(rpcUrl ? { CHAIN_RPC_URL: rpcUrl } : {}),
      RECEIPTS: chainOn ? 'on' : 'off',
      WORKER_THREADS: '2',
      WORKER_CONCURRENCY: '32',
      BATCH_MAX: '16',
      BATCH_WAIT_MS: '2',
      AUDIT_FRACTION: '0',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      JOB_SPANS_FILE: spansFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  worker.stdout.on('data', (d) => {
    out += String(d);
  });
  worker.stderr.on('data', (d) => {
    out += String(d);
  });
  for (let i = 0; i < 600 && !/worker \S+ ready/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  if (!/worker \S+ ready/.test(out)) throw new Error(`worker did not start:\n${out}`);

  const one = async (i: number): Promise<Sample> => {
    const started = performance.now();
    const res = await fetch(`${gw.base}/v1/infer`, {
      method: 'POST',
      headers: gw.headers,
      body: JSON.stringify({ model: 'tiny-gpt2', input: PROMPTS[i % PROMPTS.length], parameters: { max_new_tokens: NEW_TOKENS } }),
    });
    const job = (await res.json()) as { id: string; status: string; compute_ms: number; error?: unknown };
    if (job.status !== 'succeeded') throw new Error(`job ${job.status}: ${JSON.stringify(job)}`);
    return { id: job.id, ms: performance.now() - started, computeMs: job.compute_ms };
  };
  const load = async (concurrency: number, total: number) => {
    let next = 0;
    const samples: Sample[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) samples.push(await one(next++));
      }),
    );
    return { samples, rps: total / ((performance.now() - started) / 1000) };
  };
  const rssIdle = { gateway: await rssOf(process.pid), worker: await rssOf(worker.pid ?? 0) };
  await load(4, 24); // warm-up: engine load, JIT, pools, the order pool
  const c1 = await load(1, N1);
  const c16 = await load(16, N1 * 4);
  const rssLoad = { gateway: await rssOf(process.pid), worker: await rssOf(worker.pid ?? 0) };
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  await gw.close();
  chainProcess?.child.kill('SIGTERM');
  await chainProcess?.exited().catch(() => chainProcess.child.kill('SIGKILL'));
  await db.drop();
  return { name, c1, c16, rssIdle, rssLoad };
}

const f = (x: number) => x.toFixed(1);
const stats = (xs: number[]) => `${f(percentile(xs, 50))} / ${f(percentile(xs, 95))} / ${f(percentile(xs, 99))}`;

async function breakdown(ids: Set<string>) {
  const lines = (await readFile(spansFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const byStep = new Map<string, number[]>();
  const perJob = new Map<string, Map<string, number>>();
  for (const line of lines) {
    const { job, step, ms } = JSON.parse(line) as { job: string; step: string; ms: number };
    if (!ids.has(job)) continue;
    byStep.set(step, [...(byStep.get(step) ?? []), ms]);
    const m = perJob.get(job) ?? new Map<string, number>();
    m.set(step, (m.get(step) ?? 0) + ms);
    perJob.set(job, m);
  }
  // Hand-off: the gateway's wait for the job minus the worker's whole run (queue, pick-up, wake-up).
  const handoff = [...perJob.values()].flatMap((m) => (m.has('gateway.wait') && m.has('worker.total') ? [m.get('gateway.wait')! - m.get('worker.total')!] : []));
  if (handoff.length) byStep.set('handoff (gateway.wait − worker.total)', handoff);
  console.log('| step | p50 ms | p99 ms |\n| --- | --- | --- |');
  for (const [step, xs] of [...byStep].sort()) console.log(`| ${step} | ${f(percentile(xs, 50))} | ${f(percentile(xs, 99))} |`);
}

try {
  const runs = [];
  if (VARIANT === 'all' || VARIANT === 'full') runs.push(await variant('chain-and-receipts', true));
  if (VARIANT === 'all' || VARIANT === 'bare') runs.push(await variant('chain-off-receipts-off', false));
  console.log(`\nPOST /v1/infer, ${NEW_TOKENS} new tokens, tiny GPT-2, Postgres + Redis + one separate worker process`);
  console.log('| system | overhead p50/p95/p99 c=1 (ms) | overhead p50/p95/p99 c=16 (ms) | e2e p50 c=16 | req/s c=1 | req/s c=16 | RSS idle gw+wk (MiB) | RSS load gw+wk |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of runs) {
    const o1 = r.c1.samples.map((s) => s.ms - s.computeMs);
    const o16 = r.c16.samples.map((s) => s.ms - s.computeMs);
    console.log(
      `| ${r.name} | ${stats(o1)} | ${stats(o16)} | ${f(percentile(r.c16.samples.map((s) => s.ms), 50))} | ${f(r.c1.rps)} | ${f(r.c16.rps)} | ${r.rssIdle.gateway}+${r.rssIdle.worker} | ${r.rssLoad.gateway}+${r.rssLoad.worker} |`,
    );
  }
  for (const r of runs) {
    console.log(`\nPer-step breakdown, ${r.name}, concurrency 1 (spans from gateway and worker)`);
    await breakdown(new Set(r.c1.samples.map((s) => s.id)));
    console.log(`\nPer-step breakdown, ${r.name}, concurrency 16`);
    await breakdown(new Set(r.c16.samples.map((s) => s.id)));
  }
} finally {
  await rm(workDir, { recursive: true, force: true });
}
