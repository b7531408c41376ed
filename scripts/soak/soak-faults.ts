// The soak's fault script: one fault at a time, every kind in turn, each followed by a wait for the
// first job to succeed after it ended (its recovery time), then a gap before the next.
import { setTimeout as delay } from 'node:timers/promises';
import type pg from 'pg';
import type { Role, SoakCluster } from './soak-cluster.js';

export const FAULT_KINDS = [
  'worker-kill',
  'gateway-kill',
  'gateway-term',
  'pg-terminate',
  'redis-restart',
  'chain-pause',
  'chain-restart',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  kind: FaultKind;
  detail: string;
  startedAt: number;
  /** When the fault was over: the process ready again, the connections gone, the chain resumed. */
  endedAt: number;
  /** The first job finishing `succeeded` at or after `endedAt` (database clock), or null if none did in time. */
  recoveredAt: number | null;
  error?: string;
}

export interface FaultOptions {
  cluster: SoakCluster;
  /** The soak's own connection (application_name posthuman-soak), spared by pg-terminate. */
  observer: pg.Pool;
  databaseName: string;
  perKind: number;
  kinds: readonly FaultKind[];
  gapMs: number;
  chainPauseMs: number;
  /** How long to wait for a job to succeed after a fault before moving on (recorded as not recovered). */
  recoveryTimeoutMs: number;
  shouldStop: () => boolean;
  onFault?: (f: FaultRecord) => void;
}

/** A seeded shuffle, so a run's fault order can be repeated. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function firstSuccessSince(observer: pg.Pool, since: number): Promise<number | null> {
  const { rows } = await observer.query<{ at: Date | null }>(
    "SELECT min(finished_at) AS at FROM jobs WHERE status = 'succeeded' AND finished_at >= to_timestamp($1::double precision / 1000)",
    [since],
  );
  return rows[0].at ? rows[0].at.getTime() : null;
}

async function inject(kind: FaultKind, opts: FaultOptions, round: number): Promise<string> {
  const { cluster } = opts;
  switch (kind) {
    case 'worker-kill': {
      const role = cluster.workerRoles[round % cluster.workerRoles.length];
      await cluster.restart(role, 'SIGKILL');
      return `SIGKILL ${role}, started again`;
    }
    case 'gateway-kill': {
      const role = cluster.gatewayRoles[round % cluster.gatewayRoles.length];
      await cluster.restart(role, 'SIGKILL');
      return `SIGKILL ${role}, started again`;
    }
    case 'gateway-term': {
      // The other gateway of a pair, when there are two: both kinds of stop reach both.
      const roles = cluster.gatewayRoles;
      const role = roles[(round + 1) % roles.length];
      await cluster.restart(role, 'SIGTERM');
      return `SIGTERM ${role} (graceful), started again`;
    }
    case 'pg-terminate': {
      const { rows } = await opts.observer.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'posthuman-soak'`,
        [opts.databaseName],
      );
      return `terminated ${rows[0].n} Postgres connection(s)`;
    }
    case 'redis-restart':
      await cluster.restart('redis', 'SIGKILL');
      return 'SIGKILL redis-server, started again empty';
    case 'chain-pause': {
      cluster.signal('chain', 'SIGSTOP');
      await delay(opts.chainPauseMs); // the fault itself: the chain answers nothing for this long
      cluster.signal('chain', 'SIGCONT');
      return `SIGSTOP chain for ${opts.chainPauseMs} ms, then SIGCONT`;
    }
    case 'chain-restart': {
      // Alternate a clean stop and a kill: the journal must replay after either.
      const signal = round % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
      await cluster.restart('chain' as Role, signal);
      return `${signal} chain, started again on the same port and data dir (journal replayed)`;
    }
  }
}

/** Runs `perKind` faults of every kind, a shuffled round at a time, until done or told to stop. */
export async function runFaults(opts: FaultOptions): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (let round = 0; round < opts.perKind; round++) {
    for (const kind of shuffled(opts.kinds, round + 1)) {
      if (opts.shouldStop()) return records;
      await delay(opts.gapMs); // spacing between faults, so each one's recovery is its own
      const startedAt = Date.now();
      let detail = '';
      let error: string | undefined;
      try {
        detail = await inject(kind, opts, round);
      } catch (err) {
        error = err instanceof Error ? err.message.slice(0, 2000) : String(err);
      }
      const endedAt = Date.now();
      let recoveredAt: number | null = null;
      const deadline = endedAt + opts.recoveryTimeoutMs;
      while (!opts.shouldStop() && Date.now() < deadline) {
        recoveredAt = await firstSuccessSince(opts.observer, endedAt).catch(() => null);
        if (recoveredAt !== null) break;
        await delay(200);
      }
      const record: FaultRecord = { kind, detail, startedAt, endedAt, recoveredAt, error };
      records.push(record);
      opts.onFault?.(record);
    }
  }
  return records;
}
