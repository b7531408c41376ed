// Issue 12's side-by-side, repeated: this gateway (chain + receipts on, and both off), the runtime
// called directly with the same batching, Portkey over a mock upstream and a bare Fastify, each run
// REPS times in turn; every number is printed as the median of the runs [min–max], so the spread
// shows how far one run can be trusted on this machine. Never fails on a time.
//   npx tsx bench/side-by-side.ts [reps = 3] [requests at c=1 = 60]
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyModel, createInferenceEngine } from '../src/runtime/index.js';
import { percentile } from './bench-setup.js';

const REPS = Number(process.argv[2] ?? 3);
const N1 = Number(process.argv[3] ?? 60);
const NEW_TOKENS = 16;
const PROMPTS = ['The quick brown fox', 'Once upon a time', 'In the beginning', 'Hello, my name is', 'The weather today is', 'A long time ago'];
const f = (x: number) => x.toFixed(1);

/** The runtime without the gateway: the worker's engine settings (2 threads, batches of 16, 2 ms wait), 16 requests at once. */
async function runtimeDirect(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'posthuman-direct-'));
  try {
    await buildTinyModel(dir);
    const engine = await createInferenceEngine({ modelDir: dir, threads: 2, maxBatch: 16, maxWaitMs: 2 });
    const one = async (i: number) => {
      const started = performance.now();
      await engine.generate({ input: PROMPTS[i % PROMPTS.length], maxNewTokens: NEW_TOKENS });
      return performance.now() - started;
    };
    await Promise.all(Array.from({ length: 24 }, (_, i) => one(i)));
    const ms: number[] = [];
    let next = 0;
    const total = N1 * 4;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) ms.push(await one(next++));
      }),
    );
    const rps = total / ((performance.now() - started) / 1000);
    const rss = Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024);
    await engine.close();
    return `| the runtime called directly (batched, c=16) | ${f(percentile(ms, 50))} / ${f(percentile(ms, 95))} / ${f(percentile(ms, 99))} | ${f(rps)} | ${rss} |`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A benchmark's first table: its header row and its data rows. */
function firstTable(output: string): { header: string; rows: string[] } {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| '));
  const table: string[] = [];
  for (let i = start; i >= 0 && i < lines.length && lines[i].startsWith('| '); i++) table.push(lines[i]);
  return { header: table[0] ?? '', rows: table.slice(2) };
}

function runBench(file: string, args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${file} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Per table, per label, per cell: the runs' numbers, shown as median [min–max]. */
const tables = new Map<string, { header: string; runs: Map<string, string[][]> }>();
function collect(name: string, table: { header: string; rows: string[] }) {
  const t = tables.get(name) ?? { header: table.header, runs: new Map<string, string[][]>() };
  tables.set(name, t);
  for (const row of table.rows) {
    const cells = row.split('|').slice(1, -1).map((c) => c.trim());
    const label = cells[0];
    if (!t.runs.has(label)) t.runs.set(label, []);
    t.runs.get(label)!.push(cells.slice(1));
  }
}

function summarize(samples: string[][]): string[] {
  return samples[0].map((template, col) => {
    const perRun = samples.map((cells) => (cells[col] ?? '').match(/-?\d+(?:\.\d+)?/g)?.map(Number) ?? []);
    let at = 0;
    // Each number of the cell in turn, in the cell's own words ("12.3 / 15.0 / 20.1", "400+380").
    return template.replace(/-?\d+(?:\.\d+)?/g, (text) => {
      const i = at++;
      const xs = perRun.map((nums) => nums[i]).filter((x) => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
      if (xs.length < 2) return text;
      const digits = text.includes('.') ? text.split('.')[1].length : 0;
      const fmt = (x: number) => x.toFixed(digits);
      return `${fmt(xs[xs.length >> 1])} [${fmt(xs[0])}–${fmt(xs[xs.length - 1])}]`;
    });
  });
}

const DIRECT_HEADER = '| system | latency p50/p95/p99 c=16 (ms) | req/s c=16 | RSS (MiB) |';
for (let rep = 1; rep <= REPS; rep++) {
  process.stderr.write(`run ${rep} of ${REPS}: the gateway (2 variants), the runtime direct, the peers\n`);
  collect('gateway', firstTable(runBench('bench/overhead.ts', [String(N1)])));
  collect('direct', { header: DIRECT_HEADER, rows: [await runtimeDirect()] });
  collect('peers', firstTable(runBench('bench/peers.ts', [String(N1 * 3)])));
}

console.log(`\nPOST /v1/infer, ${NEW_TOKENS} new tokens, tiny GPT-2; ${REPS} runs, each number the median [min–max]; ${cpus().length} cores`);
for (const { header, runs } of tables.values()) {
  console.log(`\n${header}\n${header.replace(/[^|]+/g, ' --- ')}`);
  for (const [label, samples] of runs) console.log(`| ${label} | ${summarize(samples).join(' | ')} |`);
}
