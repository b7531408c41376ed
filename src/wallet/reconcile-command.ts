// `posthuman reconcile-chain`: the ledger's deposit and payout books against the chain. With
// DATABASE_URL it reads Postgres and the chain itself (CHAIN_RPC_URL + the data dir's address and
// wallet files, or OCEAN_*); without, it asks the running gateway (the embedded database is the
// gateway's alone) with the operator token. Exit status 0: no difference; 1: differences; 2: unusable.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import type { ReconciliationReport } from './reconcile.js';

export const RECONCILE_USAGE = `usage: posthuman reconcile-chain [--gateway URL] [--json]

Compares the ledger's deposit and payout books with the chain and prints every difference.
With DATABASE_URL set it reads the database and the chain (CHAIN_RPC_URL, default http://127.0.0.1:8545)
directly; otherwise it asks the gateway at --gateway (default http://127.0.0.1:8080) with the operator
token (POSTHUMAN_OPERATOR_TOKEN or <data dir>/operator-token).
exit status: 0 no difference, 1 differences found, 2 could not compare
`;

type Env = Record<string, string | undefined>;
type Out = { write(text: string): unknown };

async function direct(env: Env): Promise<ReconciliationReport> {
  const config = loadConfig(env);
  const { openDatabase } = await import('../db/database.js');
  const { setUpChain } = await import('../ocean/chain-setup.js');
  const { resolveWalletChain } = await import('./wallet-chain.js');
  const { reconcileChain } = await import('./reconcile.js');
  // Never start a chain of our own here: attach to the deployment's.
  const rpcUrl = config.chain.rpcUrl ?? 'http://127.0.0.1:8545';
  const attached = { ...config, chain: { ...config.chain, enabled: true, rpcUrl } };
  const chain = await setUpChain(attached, 'gateway', env);
  const wallet = resolveWalletChain(attached, chain);
  if (!wallet) throw new Error('no treasury: set WALLET_TREASURY_KEY, or point POSTHUMAN_DATA_DIR at the deployment whose chain this is');
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
  try {
    return await reconcileChain(database.db, wallet);
  } finally {
    wallet.close();
    await database.close();
  }
}

async function viaGateway(gateway: string, env: Env): Promise<ReconciliationReport> {
  const config = loadConfig(env);
  const tokenFile = join(config.dataDir, 'operator-token');
  const token = config.operatorToken ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (!token) throw new Error(`no operator token: set POSTHUMAN_OPERATOR_TOKEN (or run where ${tokenFile} is)`);
  const res = await fetch(`${gateway}/v1/admin/wallet/reconciliation`, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${gateway} answered ${res.status}: ${(body as { detail?: string } | null)?.detail ?? ''}`);
  return body as ReconciliationReport;
}

function print(r: ReconciliationReport, out: Out) {
  out.write(`chain ${r.chain_id}, treasury ${r.treasury}, head ${r.head}, ${r.confirmations} confirmation(s)\n`);
  out.write(`deposits  credited ${r.deposits.credited} (${r.deposits.credited_micro_credits} µc; ledger ${r.deposits.ledger_micro_credits} µc), unclaimed ${r.deposits.unclaimed} (${r.deposits.unclaimed_micro_credits} µc), pending ${r.deposits.pending}\n`);
  out.write(`payouts   settled ${r.payouts.settled} (${r.payouts.settled_micro_credits} µc; ledger ${r.payouts.ledger_micro_credits} µc), in flight ${r.payouts.in_flight} (${r.payouts.in_flight_micro_credits} µc; held ${r.payouts.held_micro_credits} µc)\n`);
  for (const d of r.differences) out.write(`DIFFERENCE  ${d}\n`);
  out.write(r.differences.length === 0 ? 'no differences: the ledger and the chain agree\n' : `${r.differences.length} difference(s)\n`);
}

/** Runs the command; returns the exit status. */
export async function reconcileCommand(argv: string[], io: { env?: Env; out?: Out; err?: Out } = {}): Promise<number> {
  const { env = process.env, out = process.stdout, err: errOut = process.stderr } = io;
  let values: { gateway?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { gateway: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    errOut.write(`${(err as Error).message}\n${RECONCILE_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(RECONCILE_USAGE);
    return 0;
  }
  let report: ReconciliationReport;
  try {
    report = env.DATABASE_URL ? await direct(env) : await viaGateway((values.gateway ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''), env);
  } catch (err) {
    errOut.write(`posthuman reconcile-chain: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.json) out.write(`${JSON.stringify(report, null, 2)}\n`);
  else print(report, out);
  return report.differences.length === 0 ? 0 : 1;
}
