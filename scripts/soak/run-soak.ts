// One soak run: a fresh database, its own Redis, chain, gateway and workers; load and faults at once;
// a drain; then the invariants on the real database. Everything it starts is stopped and removed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { databaseUrl, withAdmin } from '../../test/helpers/postgres-admin.js';
import { checkInvariants, type InvariantResult, jobsByKindAndStatus, type JobStatusCount, unfinishedJobs } from './invariants.js';
import { SoakCluster, type UnexpectedExit } from './soak-cluster.js';
import { FAULT_KINDS, type FaultKind, type FaultRecord, runFaults } from './soak-faults.js';
import { type JobOutcome, type LoadCounters, runLoad, setUpAccounts, type SoakAccount } from './soak-load.js';

export interface SoakOptions {
  jobs: number;
  concurrency: number;
  accounts: number;
  faultsPerKind: number;
  faultKinds: readonly FaultKind[];
  workers: number;
  /** Gateway processes sharing the database, Redis and chain; the load spreads over them in turn. */
  gateways: number;
  gapMs: number;
  chainPauseMs: number;
  recoveryTimeoutMs: number;
  drainTimeoutMs: number;
  /** The load and the faults stop here at the latest (the drain and the checks come after). */
  maxRunMs: number;
  jobTimeoutMs: number;
  keepDatabase: boolean;
  logLevel: string;
  log: (line: string) => void;
}

export const DEFAULT_SOAK_OPTIONS: SoakOptions = {
  jobs: 2000,
  concurrency: 8,
  accounts: 4,
  faultsPerKind: 20,
  faultKinds: FAULT_KINDS,
  workers: 2,
  gateways: 1,
  gapMs: 2000,
  chainPauseMs: 3000,
  recoveryTimeoutMs: 120_000,
  drainTimeoutMs: 180_000,
  maxRunMs: 3 * 60 * 60_000,
  jobTimeoutMs: 300_000,
  keepDatabase: false,
  logLevel: 'warn',
  log: (line) => process.stdout.write(`${line}\n`),
};

export interface SoakReport {
  options: Omit<SoakOptions, 'log'>;
  databaseUrl: string;
  setupMs: number;
  loadMs: number;
  drainMs: number;
  drained: boolean;
  outcomes: JobOutcome[];
  counters: LoadCounters;
  faults: FaultRecord[];
  unexpectedExits: UnexpectedExit[];
  jobCounts: JobStatusCount[];
  failedCodes: { code: string; count: number }[];
  invariants: InvariantResult[];
  /** Process output tails, kept when an invariant failed. */
  outputs?: Record<string, string>;
}

/** Client-side invariants: what the clients were promised (replays, one job per key, grants once, answers). */
async function clientInvariants(observer: pg.Pool, outcomes: JobOutcome[], accounts: SoakAccount[]): Promise<InvariantResult[]> {
  const replays = outcomes.filter((o) => o.replay && !o.replay.ok);
  const { rows: perMarker } = await observer.query<{ idx: string; jobs: number; ids: string[] }>(
    `SELECT substring(COALESCE(request->>'input', request->'texts'->>0) FROM 'soak#([0-9]+)#') AS idx, count(*)::int AS jobs,
            array_agg(id::text) AS ids
     FROM jobs GROUP BY 1`,
  );
  const keyedIndexes = new Set(outcomes.filter((o) => o.keyed).map((o) => String(o.index)));
  const doubled = perMarker.filter((r) => r.idx !== null && keyedIndexes.has(r.idx) && r.jobs > 1);
  const { rows: dbStatus } = await observer.query<{ id: string; status: string }>('SELECT id::text, status FROM jobs');
  const statusOf = new Map(dbStatus.map((r) => [r.id, r.status]));
  const disagree = outcomes.filter(
    (o) => o.jobId && ['succeeded', 'failed', 'cancelled'].includes(o.status) && statusOf.get(o.jobId) !== o.status,
  );
  const { rows: grants } = await observer.query<{ account_id: string; granted: string }>(
    `SELECT b.account_id::text, sum(e.amount)::text AS granted FROM ledger_entries e
     JOIN ledger_transactions t ON t.id = e.transaction_id JOIN ledger_books b ON b.id = e.book_id
     WHERE t.kind = 'grant' AND b.kind = 'available' GROUP BY b.account_id`,
  );
  const grantedOf = new Map(grants.map((g) => [g.account_id, BigInt(g.granted)]));
  const misgranted = accounts.filter((a) => grantedOf.get(a.id) !== a.granted);
  return [
    {
      name: 'replay returns the same job',
      rule: 'a keyed job sent again after it finished returns the same job id (charged once)',
      violations: replays.length,
      evidence: replays.slice(0, 5).map((o) => ({ index: o.index, mode: o.mode, job_id: o.jobId, replay: o.replay })),
    },
    {
      name: 'one job per Idempotency-Key',
      rule: 'however often a keyed request was retried through faults, the database holds one job for it',
      violations: doubled.length,
      evidence: doubled.slice(0, 5).map((r) => ({ index: r.idx, jobs: r.jobs, job_ids: r.ids })),
    },
    {
      name: 'clients saw the stored outcome',
      rule: "each final status a client was answered is the job's status in the database",
      violations: disagree.length,
      evidence: disagree.slice(0, 5).map((o) => ({ job_id: o.jobId, client: o.status, database: statusOf.get(o.jobId!) ?? 'missing' })),
    },
    {
      name: 'grants applied once',
      rule: "each account's grant entries equal what the operator granted (one grant was sent twice with its key)",
      violations: misgranted.length,
      evidence: misgranted.slice(0, 5).map((a) => ({ account_id: a.id, expected: a.granted.toString(), ledger: grantedOf.get(a.id)?.toString() })),
    },
  ];
}

export async function runSoak(partial: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const options: SoakOptions = { ...DEFAULT_SOAK_OPTIONS, ...partial };
  const { log } = options;
  const runId = randomBytes(4).toString('hex');
  const dbName = `ph_soak_${runId}`;
  const url = databaseUrl(dbName);
  const dataDir = mkdtempSync(join(tmpdir(), 'posthuman-soak-'));
  const operatorToken = `soak-operator-${randomBytes(24).toString('hex')}`;
  const started = Date.now();
  await withAdmin((c) => c.query(`CREATE DATABASE ${dbName}`));
  const observer = new pg.Pool({ connectionString: url, application_name: 'posthuman-soak', max: 3 });
  observer.on('error', () => {}); // an idle observer connection may be dropped; the next query reconnects
  const cluster = new SoakCluster({
    dataDir,
    databaseUrl: url,
    operatorToken,
    workers: options.workers,
    gateways: options.gateways,
    logLevel: options.logLevel,
    env: { SYNC_TIMEOUT_MS: '10000', SSE_MAX_LIFETIME_MS: '30000' },
  });
  let invariants: InvariantResult[] = [];
  try {
    log(`soak ${runId}: database ${dbName}, data dir ${dataDir}`);
    await cluster.start();
    log(`  up: redis :${cluster.redisPort}, chain ${cluster.chainRpcUrl}, gateway ${cluster.baseUrls.join(' ')}, ${options.workers} workers`);
    const counters0: LoadCounters = { connectionErrors: 0, retriedStatuses: {}, serverErrors: [] };
    const accounts = await setUpAccounts(() => cluster.baseUrl, operatorToken, options.accounts, 100_000_000n, runId, counters0);
    const setupMs = Date.now() - started;
    log(`  setup ${(setupMs / 1000).toFixed(1)} s; load: ${options.jobs} jobs at concurrency ${options.concurrency}; faults: ${options.faultsPerKind} of each of ${options.faultKinds.join(', ')}`);

    const loadStart = Date.now();
    const hardStop = loadStart + options.maxRunMs;
    let faultsDone = false;
    let loadDone = false;
    let done = 0;
    const faultsRun = runFaults({
      cluster,
      observer,
      databaseName: dbName,
      perKind: options.faultsPerKind,
      kinds: options.faultKinds,
      gapMs: options.gapMs,
      chainPauseMs: options.chainPauseMs,
      recoveryTimeoutMs: options.recoveryTimeoutMs,
      shouldStop: () => loadDone || Date.now() > hardStop,
      onFault: (f) =>
        log(
          `  fault ${f.kind}: ${f.error ? `ERROR ${f.error.split('\n')[0]}` : f.detail}; ` +
            `recovered ${f.recoveredAt === null ? 'NOT within the timeout' : `${((f.recoveredAt - f.endedAt) / 1000).toFixed(1)} s`} after it ended (${done} jobs done)`,
        ),
    }).finally(() => {
      faultsDone = true;
    });
    let turn = 0;
    const load = await runLoad({
      // Each request goes to the next gateway in turn (a load balancer's round robin).
      baseUrl: () => cluster.baseUrls[turn++ % cluster.baseUrls.length],
      accounts,
      jobs: options.jobs,
      concurrency: options.concurrency,
      keepGoing: () => !faultsDone,
      deadline: hardStop,
      jobTimeoutMs: options.jobTimeoutMs,
      onOutcome: () => {
        done++;
        if (done % 100 === 0) log(`  ${done} jobs done (${((Date.now() - loadStart) / 1000).toFixed(0)} s)`);
      },
    }).finally(() => {
      loadDone = true;
    });
    const faults = await faultsRun;
    const loadMs = Date.now() - loadStart;
    log(`  load over: ${load.outcomes.length} jobs, ${faults.length} faults in ${(loadMs / 1000).toFixed(0)} s; draining`);

    const drainStart = Date.now();
    let drained = false;
    while (Date.now() - drainStart < options.drainTimeoutMs) {
      if ((await unfinishedJobs(observer).catch(() => -1)) === 0) {
        drained = true;
        break;
      }
      await delay(500);
    }
    const drainMs = Date.now() - drainStart;
    const jobCounts = await jobsByKindAndStatus(observer);
    const { rows: failedCodes } = await observer.query<{ code: string; count: number }>(
      "SELECT COALESCE(error->>'code', '(none)') AS code, count(*)::int AS count FROM jobs WHERE status = 'failed' GROUP BY 1 ORDER BY 2 DESC",
    );
    invariants = [...(await checkInvariants(observer)), ...(await clientInvariants(observer, load.outcomes, accounts))];
    // A failed invariant's job ids, looked up in every process's log: what happened to them.
    for (const result of invariants.filter((i) => i.violations > 0)) {
      for (const row of result.evidence.slice(0, 3)) {
        if (typeof row.job_id === 'string') row.log = cluster.logLinesAbout(row.job_id);
      }
    }
    const { log: _log, ...shown } = options;
    return {
      options: shown,
      databaseUrl: url,
      setupMs,
      loadMs,
      drainMs,
      drained,
      outcomes: load.outcomes,
      counters: {
        connectionErrors: load.counters.connectionErrors + counters0.connectionErrors,
        retriedStatuses: load.counters.retriedStatuses,
        serverErrors: [...counters0.serverErrors, ...load.counters.serverErrors],
      },
      faults,
      unexpectedExits: cluster.unexpectedExits,
      jobCounts,
      failedCodes,
      invariants,
      outputs: invariants.some((i) => i.violations > 0) ? cluster.outputs() : undefined,
    };
  } finally {
    await cluster.stop();
    await observer.end().catch(() => {});
    if (!options.keepDatabase) await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}
