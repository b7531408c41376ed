// A real local chain with Ocean's contracts for one test file: started on a free port, torn down after.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmbeddedOcean, startEmbeddedOcean } from '../../../src/ocean/embedded-ocean.js';
import { type OceanClient, type OceanClientOptions, createOceanClient } from '../../../src/ocean/ocean-client.js';

export const RUNTIME = {
  did: 'did:op:posthuman-runtime',
  filesChecksum: '1'.repeat(64),
  containerSectionChecksum: '2'.repeat(64),
};

export interface OceanFixture {
  ocean: EmbeddedOcean;
  client: OceanClient;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startOceanFixture(
  options: { intervalMiningMs?: number; client?: OceanClientOptions } = {},
): Promise<OceanFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'posthuman-ocean-'));
  const ocean = await startEmbeddedOcean({ dataDir, port: 0, intervalMiningMs: options.intervalMiningMs });
  const client = createOceanClient(ocean.config, options.client);
  return {
    ocean,
    client,
    dataDir,
    async stop() {
      client.close();
      await ocean.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Moves chain time forward and mines a block so the new time is visible. */
export async function advanceChainTime(fixture: OceanFixture, seconds: number): Promise<void> {
  await fixture.ocean.chain.request('evm_increaseTime', [seconds]);
  await fixture.ocean.chain.request('evm_mine', []);
}
