// Prints a soak's report: client outcomes by shape, jobs by kind and status, faults by kind with
// their recovery times, unexpected process exits, and each invariant PASS/FAIL. Durations are only printed.
import { formatInvariantTable, formatJobTable, formatTable } from './invariants.js';
import { FAULT_KINDS } from './soak-faults.js';
import { MODES } from './soak-load.js';
import type { SoakReport } from './run-soak.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function faultTable(report: Pick<SoakReport, 'faults'>): string {
  const kinds = FAULT_KINDS.filter((k) => report.faults.some((f) => f.kind === k));
  const rows = kinds.map((kind) => {
    const faults = report.faults.filter((f) => f.kind === kind);
    const recoveries = faults
      .filter((f) => f.recoveredAt !== null)
      .map((f) => f.recoveredAt! - f.endedAt)
      .sort((a, b) => a - b);
    const downtimes = faults.map((f) => f.endedAt - f.startedAt).sort((a, b) => a - b);
    return [
      kind,
      faults.length,
      faults.filter((f) => f.error).length,
      faults.length - recoveries.length,
      seconds(percentile(downtimes, 0.5)),
      recoveries.length ? seconds(percentile(recoveries, 0.5)) : '–',
      recoveries.length ? seconds(recoveries[recoveries.length - 1]) : '–',
    ];
  });
  return formatTable(['fault', 'count', 'errors', 'not recovered', 'fault p50', 'recovery p50', 'recovery max'], rows);
}

export function formatSoakReport(report: SoakReport): string {
  const o = report.options;
  const statuses = ['succeeded', 'failed', 'cancelled', 'rejected', 'lost'] as const;
  const clientRows = MODES.map((mode) => {
    const mine = report.outcomes.filter((x) => x.mode === mode);
    const replays = mine.filter((x) => x.replay);
    return [
      mode,
      ...statuses.map((s) => mine.filter((x) => x.status === s).length),
      mine.reduce((a, x) => a + x.resubmits, 0),
      `${replays.filter((x) => x.replay!.ok).length}/${replays.length}`,
      mine.length,
    ];
  });
  const odd = report.outcomes.filter((x) => x.status === 'rejected' || x.status === 'lost').slice(0, 5);
  const retried = Object.entries(report.counters.retriedStatuses)
    .map(([s, n]) => `${s}×${n}`)
    .join(', ');
  const lines = [
    '',
    `soak: ${report.outcomes.length} jobs (asked ${o.jobs}), concurrency ${o.concurrency}, ${o.accounts} accounts, ${o.gateways} gateway${o.gateways === 1 ? '' : 's'}, ${o.workers} workers, ` +
      `${report.faults.length} faults (asked ${o.faultsPerKind} of each of ${o.faultKinds.length} kinds)`,
    `time: setup ${seconds(report.setupMs)}, load ${seconds(report.loadMs)}, drain ${seconds(report.drainMs)}${report.drained ? '' : ' (DEADLINE PASSED with jobs unfinished)'}`,
    `client: ${report.counters.connectionErrors} connection errors retried; retried answers: ${retried || 'none'}`,
    ...report.counters.serverErrors.map((e) => `  500: ${e}`),
    '',
    'client outcomes by shape (resubmits: submits sent again after a connection error, 5xx or 429; replays: same job back)',
    formatTable(['shape', ...statuses, 'resubmits', 'replays ok', 'total'], clientRows),
    ...odd.map((x) => `  ${x.status} #${x.index} (${x.mode}, ${x.keyed ? 'keyed' : 'no key'}): ${x.detail ?? ''}`),
    '',
    'jobs by kind and status (database)',
    formatJobTable(report.jobCounts),
    report.failedCodes.length ? `failed jobs by code: ${report.failedCodes.map((f) => `${f.code}×${f.count}`).join(', ')}` : 'no failed jobs',
    '',
    'faults (fault: from the signal until the process was ready again; recovery: from then until the next job succeeded)',
    report.faults.length ? faultTable(report) : '(none)',
    ...report.faults.filter((f) => f.error).slice(0, 5).map((f) => `  ${f.kind} error: ${f.error!.split('\n').slice(0, 3).join(' / ')}`),
    '',
    report.unexpectedExits.length
      ? `processes that died without being killed (started again): ${report.unexpectedExits.map((e) => `${e.role} (code ${e.code}, signal ${e.signal})`).join(', ')}`
      : 'no process died without being killed',
    ...report.unexpectedExits.slice(0, 3).map((e) => `--- ${e.role} last output:\n${e.tail}`),
    '',
    'invariants',
    formatInvariantTable(report.invariants),
  ];
  if (report.outputs) {
    for (const [role, out] of Object.entries(report.outputs)) lines.push(`--- ${role} last output:`, out);
  }
  return lines.join('\n');
}
