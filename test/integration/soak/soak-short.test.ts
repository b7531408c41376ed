// The soak in short (`npm run soak` is the long one): ~150 mixed jobs through one fault of every kind
// on real processes (two gateways, two workers), then every invariant on the real database must hold. Durations are only printed.
import { describe, expect, it } from 'vitest';
import { formatInvariantTable } from '../../../scripts/soak/invariants.js';
import { runSoak, type SoakReport } from '../../../scripts/soak/run-soak.js';
import { FAULT_KINDS } from '../../../scripts/soak/soak-faults.js';
import { formatSoakReport } from '../../../scripts/soak/soak-report.js';

describe('soak (short)', () => {
  let report: SoakReport;

  it(
    'runs sync, async, streamed and evaluate jobs through every kind of fault',
    async () => {
      report = await runSoak({
        jobs: 150,
        concurrency: 8,
        accounts: 3,
        // Two gateways on one database, Redis, chain and wallet (the load alternates between them).
        gateways: 2,
        faultsPerKind: 1,
        gapMs: 1000,
        chainPauseMs: 2000,
        recoveryTimeoutMs: 90_000,
        drainTimeoutMs: 120_000,
        maxRunMs: 8 * 60_000,
        log: (line) => console.log(line),
      });
      console.log(formatSoakReport(report));
      expect(report.outcomes.length).toBeGreaterThanOrEqual(150);
      expect(report.outcomes.some((o) => o.status === 'succeeded')).toBe(true);
      for (const kind of FAULT_KINDS) {
        const faults = report.faults.filter((f) => f.kind === kind);
        expect(faults.length, `fault ${kind} injected`).toBe(1);
        expect(faults.map((f) => f.error), `fault ${kind} injected without error`).toEqual([undefined]);
      }
    },
    20 * 60_000,
  );

  it('keeps every invariant: final jobs, exact charges, one receipt per success, a balanced ledger, a contiguous log', () => {
    expect(report, 'the soak run above did not finish').toBeDefined();
    const failed = report.invariants.filter((i) => i.violations > 0);
    // The message carries the offending rows (job ids, holds) and what the logs say about them.
    expect(failed.map((i) => `${i.name}: ${i.violations}`), formatInvariantTable(failed)).toEqual([]);
  });
});
