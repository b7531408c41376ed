// npm run bench: runs every benchmark in turn, each printing its own tables. The first is issue 12's
// side-by-side (this gateway, the runtime direct, Portkey over a mock upstream and a bare Fastify,
// three runs each with their spread); `npm run bench -- overhead peers` runs a subset (overhead.ts
// alone also prints the per-step breakdown).
import { spawnSync } from 'node:child_process';

const all = [
  'bench/side-by-side.ts',
  'bench/scale-out.ts',
  'bench/runtime-direct.ts',
  'bench/gateway-jobs.ts',
  'bench/training.ts',
  'bench/finetune-gateway.ts',
  'bench/ocean-orders.ts',
  'bench/escrow.ts',
  'bench/ocean-infer-latency.ts',
  'bench/receipts.ts',
  'bench/db-steps.ts',
  'bench/chain-replay.ts',
];
// Run by name only: each is part of side-by-side.ts already.
const alsoByName = ['bench/overhead.ts', 'bench/peers.ts'];
const wanted = process.argv.slice(2);
const benches = wanted.length ? [...all, ...alsoByName].filter((b) => wanted.some((w) => b.includes(w))) : all;
for (const bench of benches) {
  console.log(`\n## ${bench}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', bench], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`(${bench} exited ${r.status})`);
}
