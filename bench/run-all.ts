// npm run bench: runs every benchmark in turn, each printing its own tables. The first two are the
// side-by-side of issue 12 (this gateway's overhead with its per-step breakdown, then Portkey over a
// mock upstream and a bare Fastify, in the same run); `npm run bench -- overhead peers` runs a subset.
import { spawnSync } from 'node:child_process';

const all = [
  'bench/overhead.ts',
  'bench/peers.ts',
  'bench/runtime-direct.ts',
  'bench/gateway-jobs.ts',
  'bench/training.ts',
  'bench/finetune-gateway.ts',
  'bench/ocean-orders.ts',
  'bench/ocean-infer-latency.ts',
  'bench/receipts.ts',
  'bench/db-steps.ts',
  'bench/chain-replay.ts',
];
const wanted = process.argv.slice(2);
const benches = wanted.length ? all.filter((b) => wanted.some((w) => b.includes(w))) : all;
for (const bench of benches) {
  console.log(`\n## ${bench}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', bench], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`(${bench} exited ${r.status})`);
}
