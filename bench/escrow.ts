// Benchmark: Ocean's Escrow on the in-process chain, automine vs a block every 2 s: locks and claims
// per second from one compute-node wallet, one per transaction (in turn, and 16 in flight) and
// batched (createLocks / claimLocks of 64 in one transaction), with the gas each lock and claim used.
// Prints numbers, never fails on time. Takes about half a minute.
// Run: npx tsx bench/escrow.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEther } from 'ethers';
import { startEmbeddedOcean } from '../src/ocean/embedded-ocean.js';
import { type ClaimRequest, type EscrowPayee, type EscrowTx, type LockRequest, createEscrowPayee, createEscrowPayer } from '../src/ocean/escrow.js';
import { ManagedSigner } from '../src/ocean/nonce-manager.js';
import { createOceanClient } from '../src/ocean/ocean-client.js';
import { percentile } from './bench-setup.js';

const BLOCK_MS = 2000;
const BATCH = 64;
const AMOUNT = parseEther('0.01');

interface Row {
  mining: string;
  measure: string;
  n: number;
  perSecond: number;
  latencies: number[];
  gasPerOp: number;
  note?: string;
}

const rows: Row[] = [];
let nextJobId = 1n;

interface Bench {
  node: EscrowPayee;
  payer: string;
  token: string;
}

/** Runs `ops` with `concurrency` in flight; each returns its mined tx. */
async function timed(total: number, concurrency: number, op: (i: number) => Promise<EscrowTx>) {
  let next = 0;
  const latencies: number[] = [];
  let gas = 0n;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        const tx = await op(i);
        latencies.push(performance.now() - t);
        gas += tx.gasUsed;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies, gas };
}

function lockOf(b: Bench, jobId: bigint): LockRequest {
  return { jobId, token: b.token, payer: b.payer, amount: AMOUNT, expirySeconds: 3600 };
}

function claimOf(b: Bench, jobId: bigint): ClaimRequest {
  return { jobId, token: b.token, payer: b.payer, amount: AMOUNT / 2n, proof: `proof-${jobId}` };
}

/** Locks then claims `n` jobs one per transaction, `concurrency` in flight. */
async function oneByOne(b: Bench, mining: string, n: number, concurrency: number) {
  const ids = Array.from({ length: n }, () => nextJobId++);
  const lock = await timed(n, concurrency, (i) => b.node.createLock(ids[i], b.token, b.payer, AMOUNT, 3600));
  const note = `up to ${n} open locks`;
  rows.push({ mining, measure: `createLock c=${concurrency}`, n, perSecond: n / lock.seconds, latencies: lock.latencies, gasPerOp: Number(lock.gas) / n, note });
  const claim = await timed(n, concurrency, (i) => {
    const c = claimOf(b, ids[i]);
    return b.node.claimLock(c.jobId, c.token, c.payer, c.amount, c.proof);
  });
  rows.push({ mining, measure: `claimLock c=${concurrency}`, n, perSecond: n / claim.seconds, latencies: claim.latencies, gasPerOp: Number(claim.gas) / n, note });
}

/** Locks then claims BATCH jobs in one transaction each. */
async function batched(b: Bench, mining: string) {
  const ids = Array.from({ length: BATCH }, () => nextJobId++);
  const lock = await timed(1, 1, () => b.node.createLocks(ids.map((id) => lockOf(b, id))));
  rows.push({ mining, measure: `createLocks x${BATCH}`, n: BATCH, perSecond: BATCH / lock.seconds, latencies: lock.latencies, gasPerOp: Number(lock.gas) / BATCH, note: 'one tx' });
  const claim = await timed(1, 1, () => b.node.claimLocks(ids.map((id) => claimOf(b, id))));
  rows.push({ mining, measure: `claimLocks x${BATCH}`, n: BATCH, perSecond: BATCH / claim.seconds, latencies: claim.latencies, gasPerOp: Number(claim.gas) / BATCH, note: 'one tx' });
}

async function withChain(intervalMiningMs: number, run: (b: Bench) => Promise<void>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'posthuman-bench-'));
  const ocean = await startEmbeddedOcean({ dataDir, port: 0, intervalMiningMs, persist: false });
  const client = createOceanClient(ocean.config, { wait: { pollMs: 50 } });
  try {
    const escrow = ocean.config.addresses.Escrow;
    if (!escrow) throw new Error('no Escrow on the local chain');
    const token = ocean.config.addresses.Ocean;
    const payer = createEscrowPayer(client.consumer, escrow);
    const nodeSigner = new ManagedSigner(ocean.config.providerPrivateKey, client.provider, { chainId: ocean.config.chainId, estimateGas: false, wait: { pollMs: 50 } });
    const node = createEscrowPayee(nodeSigner, escrow);
    await payer.ensureAvailable(token, parseEther('100'));
    await payer.authorize(token, node.address, { maxLockedAmount: parseEther('100'), maxLockSeconds: 3600, maxLockCounts: 10_000 });
    await run({ node, payer: payer.address, token });
  } finally {
    client.close();
    await ocean.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const ms = (xs: number[], p: number) => (xs.length ? (percentile(xs, p) as number).toFixed(1) : '-');

function printRows() {
  console.table(
    rows.map((r) => ({
      mining: r.mining,
      measure: r.measure,
      n: r.n,
      'ops/s': r.perSecond.toFixed(1),
      'p50 ms': ms(r.latencies, 50),
      'p99 ms': ms(r.latencies, 99),
      'gas/op': Math.round(r.gasPerOp),
      note: r.note ?? '',
    })),
  );
  console.log('ops: locks or claims. A batch row times its one transaction (p50 = p99 = that tx). Gas per lock grows with the node\'s open locks (the contract scans them).');
}

async function main() {
  await withChain(0, async (b) => {
    await oneByOne(b, 'automine', 32, 1);
    await oneByOne(b, 'automine', 64, 16);
    await batched(b, 'automine');
  });
  await withChain(BLOCK_MS, async (b) => {
    await oneByOne(b, '2 s blocks', 3, 1);
    await oneByOne(b, '2 s blocks', 32, 16);
    await batched(b, '2 s blocks');
  });
  printRows();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
