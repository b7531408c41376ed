// Scale-out: the same load through 1 gateway + 1 worker and through 2 gateways + 2 workers (real
// processes on one Postgres, one Redis, one local chain and one consumer wallet, as `npm run soak`
// deploys them), the load balanced round robin over the gateways. Prints requests/s and latency per
// topology and the ratio to 1 + 1 measured in the same run; never fails on a time, fails if a job does.
//   npx tsx bench/scale-out.ts [requests per topology = 240] [concurrency = 16] [topologies = 1+1,2+2,1+2]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SoakCluster } from '../scripts/soak/soak-cluster.js';
import { databaseUrl, withAdmin } from '../test/helpers/postgres-admin.js';
import { percentile } from './bench-setup.js';

const REQUESTS = Number(process.argv[2] ?? 240);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const NEW_TOKENS = 16;
const TOPOLOGIES = (process.argv[4] ?? '1+1,2+2,1+2').split(',').map((t) => {
  const [gateways, workers] = t.split('+').map(Number);
  return { gateways, workers };
});

/** The machine's CPU jiffies, busy and total, from /proc/stat (all cores). */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** CPU seconds a process has used (user + system), from /proc/<pid>/stat. */
function processCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const after = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(after[11]) + Number(after[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

interface Row {
  topology: string;
  /** The machine's cores busy during the load (all processes: Postgres, Redis and chain included). */
  coresBusy: number;
  /** Gateway and worker processes' CPU per request (ms). */
  cpuMsPerRequest: number;
  /** The local chain's CPU per request (ms): a remote RPC's on a real network. */
  chainMsPerRequest: number;
  /** Everything else busy on the machine per request (ms): Postgres, Redis, the load generator. */
  otherMsPerRequest: number;
  rps: number;
  p50: number;
  p99: number;
  computeP50: number;
  perGateway: number[];
}

async function post(url: string, headers: Record<string, string>, body: unknown) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

async function measure(gateways: number, workers: number): Promise<Row> {
  const runId = randomBytes(4).toString('hex');
  const dbName = `ph_scale_${runId}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${dbName}`));
  const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-scale-'));
  const token = `scale-${randomBytes(24).toString('hex')}`;
  const cluster = new SoakCluster({ dataDir, databaseUrl: databaseUrl(dbName), operatorToken: token, workers, gateways, logLevel: 'warn' });
  try {
    await cluster.start();
    const op = { authorization: `Bearer ${token}` };
    const base = cluster.baseUrl;
    const account = await post(`${base}/v1/admin/accounts`, op, { name: 'scale bench' });
    await post(`${base}/v1/admin/accounts/${account.id}/credits`, op, { amount: 1_000_000_000_000, reason: 'bench' });
    const { key } = await post(`${base}/v1/admin/accounts/${account.id}/keys`, op, {});
    const auth = { authorization: `Bearer ${key}` };
    const urls = cluster.baseUrls;
    const infer = async (i: number) => {
      const gateway = i % urls.length;
      const started = performance.now();
      const job = await post(`${urls[gateway]}/v1/infer`, auth, { model: 'tiny-gpt2', input: `Request ${i}: the weather today is`, parameters: { max_new_tokens: NEW_TOKENS } });
      if (job.status !== 'succeeded') throw new Error(`job ${job.id} ${job.status}: ${JSON.stringify(job.error)}`);
      return { gateway, ms: performance.now() - started, computeMs: Number(job.compute_ms) };
    };
    // Warm-up: engines loaded, pools filled, JIT, on every gateway.
    await Promise.all(Array.from({ length: 8 * urls.length }, (_, i) => infer(i)));
    const samples: Array<{ gateway: number; ms: number; computeMs: number }> = [];
    let next = 0;
    const roles = [...cluster.gatewayRoles, ...cluster.workerRoles];
    const cpuOf = () => roles.reduce((sum, role) => sum + processCpuSeconds(cluster.pid(role)), 0);
    const cpuBefore = cpuOf();
    const chainBefore = processCpuSeconds(cluster.pid('chain'));
    const machineBefore = machineCpu();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) samples.push(await infer(next++));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const machineAfter = machineCpu();
    const cpuMsPerRequest = ((cpuOf() - cpuBefore) * 1000) / REQUESTS;
    const chainMsPerRequest = ((processCpuSeconds(cluster.pid('chain')) - chainBefore) * 1000) / REQUESTS;
    // /proc/stat counts in USER_HZ (100 per second) per core.
    const machineMsPerRequest = ((machineAfter.busy - machineBefore.busy) * 10) / REQUESTS;
    const ms = samples.map((s) => s.ms);
    return {
      coresBusy: ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * cpus().length,
      cpuMsPerRequest,
      chainMsPerRequest,
      otherMsPerRequest: machineMsPerRequest - cpuMsPerRequest - chainMsPerRequest,
      topology: `${gateways} gateway${gateways > 1 ? 's' : ''} + ${workers} worker${workers > 1 ? 's' : ''}`,
      rps: REQUESTS / seconds,
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      computeP50: percentile(samples.map((s) => s.computeMs), 50),
      perGateway: urls.map((_, g) => samples.filter((s) => s.gateway === g).length),
    };
  } finally {
    await cluster.stop();
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const t of TOPOLOGIES) rows.push(await measure(t.gateways, t.workers));
const base = rows[0].rps;
console.log(`\nPOST /v1/infer (default model, ${NEW_TOKENS} new tokens), ${REQUESTS} requests at concurrency ${CONCURRENCY}, chain + receipts on, ${cpus().length} cores`);
console.log('| topology | req/s | × 1+1 | p50 ms | p99 ms | compute p50 ms | requests per gateway | cores busy | CPU ms/request: gateways+workers / chain / rest (Postgres, Redis, client) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.topology} | ${r.rps.toFixed(1)} | ${(r.rps / base).toFixed(2)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.computeP50.toFixed(0)} | ${r.perGateway.join(' / ')} | ${r.coresBusy.toFixed(2)} of ${cpus().length} | ${r.cpuMsPerRequest.toFixed(0)} / ${r.chainMsPerRequest.toFixed(0)} / ${r.otherMsPerRequest.toFixed(0)} |`);
}
