// How long the embedded chain takes to come back after a restart: N one-transaction blocks made,
// the chain stopped, then started again from its journal (npx tsx bench/chain-replay.ts [N]).
import { mkdtempSync } from 'node:fs';
import { Wallet } from 'ethers';
import { startEmbeddedOcean } from '../src/ocean/embedded-ocean.js';
import { createRpcProvider } from '../src/ocean/chain-config.js';
const dataDir = mkdtempSync('/tmp/replay-');
const first = await startEmbeddedOcean({ dataDir, port: 0 });
const provider = createRpcProvider(first.chain.rpcUrl, first.chain.chainId);
const w = new Wallet(first.chain.accounts[2].privateKey, provider);
const n = Number(process.argv[2] ?? 300);
let nonce = await provider.getTransactionCount(w.address);
for (let i = 0; i < n; i++) await w.sendTransaction({ to: first.chain.accounts[3].address, value: 1n, nonce: nonce++, gasLimit: 21000n });
const blocks = Number(await first.chain.request('eth_blockNumber'));
provider.destroy();
await first.stop();
const t0 = performance.now();
const second = await startEmbeddedOcean({ dataDir, port: 0 });
const ms = performance.now() - t0;
console.log(JSON.stringify({ blocks, replayed: second.chain.replayed, startMs: Math.round(ms), msPerBlock: +(ms / blocks).toFixed(2) }));
await second.stop();
