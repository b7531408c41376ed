// `npm run soak -- [--jobs 2000] [--faults-per-kind 20] [--concurrency 8] ...`: a long run of mixed
// jobs through injected faults, then the invariant checks; exits 1 when any invariant fails.
// Every flag also reads from an environment variable (SOAK_JOBS, SOAK_FAULTS_PER_KIND, ...).
import { parseArgs } from 'node:util';
import { DEFAULT_SOAK_OPTIONS, runSoak, type SoakOptions } from './run-soak.js';
import { FAULT_KINDS, type FaultKind } from './soak-faults.js';
import { formatSoakReport } from './soak-report.js';

const NUMBERS = {
  jobs: 'SOAK_JOBS',
  concurrency: 'SOAK_CONCURRENCY',
  accounts: 'SOAK_ACCOUNTS',
  'faults-per-kind': 'SOAK_FAULTS_PER_KIND',
  workers: 'SOAK_WORKERS',
  gateways: 'SOAK_GATEWAYS',
  'gap-ms': 'SOAK_GAP_MS',
  'chain-pause-ms': 'SOAK_CHAIN_PAUSE_MS',
  'recovery-timeout-ms': 'SOAK_RECOVERY_TIMEOUT_MS',
  'drain-timeout-ms': 'SOAK_DRAIN_TIMEOUT_MS',
  'max-minutes': 'SOAK_MAX_MINUTES',
} as const;

function usage(): string {
  return [
    'usage: npm run soak -- [options]',
    ...Object.entries(NUMBERS).map(([flag, env]) => `  --${flag} <n>   (${env})`),
    `  --kinds <a,b>   fault kinds (SOAK_KINDS; default all: ${FAULT_KINDS.join(',')})`,
    '  --keep-db       keep the soak database for `npm run soak:check -- <url>` (SOAK_KEEP_DB=1)',
  ].join('\n');
}

function readOptions(): Partial<SoakOptions> {
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(NUMBERS).map((k) => [k, { type: 'string' as const }])),
      kinds: { type: 'string' },
      'keep-db': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  const number = (flag: keyof typeof NUMBERS): number | undefined => {
    const raw = ((values as Record<string, unknown>)[flag] as string | undefined) ?? process.env[NUMBERS[flag]];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} (${NUMBERS[flag]}) must be a number ≥ 0, not "${raw}"`);
    return n;
  };
  const kindsRaw = (values.kinds as string | undefined) ?? process.env.SOAK_KINDS;
  const kinds = kindsRaw ? kindsRaw.split(',').map((k) => k.trim()) : undefined;
  const unknown = kinds?.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown?.length) throw new Error(`--kinds: unknown fault kind(s) ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  const maxMinutes = number('max-minutes');
  const picked: Partial<SoakOptions> = {
    jobs: number('jobs'),
    concurrency: number('concurrency'),
    accounts: number('accounts'),
    faultsPerKind: number('faults-per-kind'),
    workers: number('workers'),
    gateways: number('gateways'),
    gapMs: number('gap-ms'),
    chainPauseMs: number('chain-pause-ms'),
    recoveryTimeoutMs: number('recovery-timeout-ms'),
    drainTimeoutMs: number('drain-timeout-ms'),
    maxRunMs: maxMinutes === undefined ? undefined : maxMinutes * 60_000,
    faultKinds: kinds as FaultKind[] | undefined,
    keepDatabase: Boolean(values['keep-db']) || process.env.SOAK_KEEP_DB === '1',
  };
  return Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined));
}

async function main() {
  let options: Partial<SoakOptions>;
  try {
    options = readOptions();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${usage()}\n`);
    process.exit(2);
  }
  const report = await runSoak({ ...DEFAULT_SOAK_OPTIONS, ...options });
  process.stdout.write(`${formatSoakReport(report)}\n`);
  if (report.options.keepDatabase) process.stdout.write(`\ndatabase kept: npm run soak:check -- ${report.databaseUrl}\n`);
  const failed = report.invariants.filter((i) => i.violations > 0);
  process.stdout.write(failed.length ? `\nSOAK FAILED: ${failed.map((f) => f.name).join('; ')}\n` : '\nsoak passed: every invariant holds\n');
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`soak failed to run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
