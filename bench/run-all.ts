// npm run bench: runs every benchmark in turn, each printing its own tables.
import { spawnSync } from 'node:child_process';

const benches = ['bench/runtime-direct.ts', 'bench/gateway-jobs.ts', 'bench/ocean-orders.ts', 'bench/ocean-infer-latency.ts', 'bench/receipts.ts', 'bench/chain-replay.ts'];
for (const bench of benches) {
  console.log(`\n## ${bench}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', bench], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`(${bench} exited ${r.status})`);
}
