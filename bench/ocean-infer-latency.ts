// End-to-end /v1/infer latency when every job is paid by an Ocean order: with the chain mining
// instantly vs a block every 2 s, and with orders placed ahead (a warm pool) vs on demand.
// Postgres, in-process queue and worker, HTTP on loopback. Prints a table; never fails on a time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedOcean } from '../src/ocean/embedded-ocean.js';
import { buildTinyModel } from '../src/runtime/index.js';
import { percentile, scratchDatabase, startBenchGateway } from './bench-setup.js';

const REQUESTS = 8;
const work = await mkdtemp(join(tmpdir(), 'ocean-latency-'));
const modelDir = join(work, 'model');
await buildTinyModel(modelDir);
const rows: string[] = [];
try {
  for (const blockMs of [0, 2000]) {
    for (const ahead of [true, false]) {
      const db = await scratchDatabase();
      const dataDir = join(work, `data-${blockMs}-${ahead}`);
      const ocean = await startEmbeddedOcean({ dataDir, port: 0, intervalMiningMs: blockMs });
      const chain = { mode: 'embedded' as const, config: ocean.config, stop: () => ocean.stop() };
      const gw = await startBenchGateway({
        dbUrl: db.url,
        workDir: join(work, `gw-${blockMs}-${ahead}`),
        modelDir,
        redis: false,
        chain,
        env: { ORDER_POOL_SIZE: ahead ? String(REQUESTS + 2) : '0' },
      });
      if (ahead) await gw.app.ocean!.warm(gw.model);
      await gw.infer('warm-up', 4).catch(() => {});
      const ms: number[] = [];
      for (let i = 0; i < REQUESTS; i++) ms.push((await gw.infer(`request ${i}`, 8)).ms);
      rows.push(
        `| ${blockMs ? `a block every ${blockMs} ms` : 'instant (automine)'} | ${ahead ? 'ordered ahead (pool)' : 'ordered on demand'} | ${percentile(ms, 50).toFixed(0)} | ${percentile(ms, 95).toFixed(0)} |`,
      );
      await gw.close();
      await ocean.stop();
      await db.drop();
    }
  }
  console.log(`\n/v1/infer end-to-end latency with Ocean orders (ms, ${REQUESTS} sequential requests, 8 new tokens)`);
  console.log('| chain | ordering | p50 | p95 |\n|---|---|---|---|');
  for (const r of rows) console.log(r);
} finally {
  await rm(work, { recursive: true, force: true });
}

