// Brings escrow_payments rows to the chain's truth for one payer wallet and token: a node's lock makes a
// row `locked`, its claim `claimed` (with the amount it took), a cancel `canceled`; expired unclaimed
// locks are canceled (refunded) on the way, ours and orphans alike. An orphan is an open lock of an
// authorized node that no row names: typically a request that timed out before we learned its id, so
// a pending row without ids first takes the unclaimed lock of the same node and amount made near its
// creation. Running it again changes nothing.
import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import { getAddress } from 'ethers';
import type { Db } from '../db/database.js';
import { type EscrowEvent, type EscrowLock, type EscrowPayer, escrowJobIdOfNodeJob } from './escrow.js';
import { escrowPayments } from './escrow-schema.js';

export interface ReconcileEscrowOptions {
  db: Db;
  payer: EscrowPayer;
  token: string;
  /** The compute nodes (escrow payees) whose locks on this payer's funds are ours to reconcile. */
  payees: readonly string[];
  /** First block to read escrow events from. Default 0 (a long chain wants its Escrow's deployment block). */
  fromBlock?: number;
  /** A pending row without ids takes a lock made from `before` seconds before to `after` seconds after it. */
  matchWindowSeconds?: { before: number; after: number };
  /** Rows older than this are not looked at (their locks have long expired). Default 7 days. */
  lookbackSeconds?: number;
}

export interface EscrowReconcileSummary {
  /** Rows that became `locked`, `claimed`, `canceled` in this run. */
  locked: number;
  claimed: number;
  canceled: number;
  /** Expired locks no row names, canceled (refunded) in this run. */
  orphansCanceled: number;
  /** Open, unexpired locks no row names: canceled by a later run once they expire. */
  orphans: EscrowLock[];
}

type Row = typeof escrowPayments.$inferSelect;
type Change = Partial<Omit<Row, 'id' | 'jobId' | 'createdAt'>>;

const DEFAULT_WINDOW = { before: 60, after: 900 };
const keyOf = (payee: string, jobId: bigint | string) => `${getAddress(payee)}:${jobId}`;

/** Per lock (payee + job id), its last Lock event and what ended that lock, from the payer's events. */
function lockHistories(events: readonly EscrowEvent[]) {
  const histories = new Map<string, { lock?: Extract<EscrowEvent, { kind: 'lock' }>; end?: EscrowEvent }>();
  for (const e of events) {
    const key = keyOf(e.payee, e.jobId);
    const h = histories.get(key) ?? {};
    // A job id may be locked again after its lock ended: the latest lock starts a new history.
    if (e.kind === 'lock') histories.set(key, { lock: e });
    else histories.set(key, { ...h, end: e });
  }
  return histories;
}

/** The row's escrow job id: stored, or derived from the job id the node answered with. */
function rowJobId(row: Row): bigint | undefined {
  if (row.escrowJobId) return BigInt(row.escrowJobId);
  return row.nodeJobId ? escrowJobIdOfNodeJob(row.nodeJobId) : undefined;
}

export async function reconcileEscrow(options: ReconcileEscrowOptions): Promise<EscrowReconcileSummary> {
  const { db, payer } = options;
  const token = getAddress(options.token);
  const payees = options.payees.map((p) => getAddress(p));
  const window = options.matchWindowSeconds ?? DEFAULT_WINDOW;
  const summary: EscrowReconcileSummary = { locked: 0, claimed: 0, canceled: 0, orphansCanceled: 0, orphans: [] };
  if (payees.length === 0) return summary;

  const chainId = Number((await payer.provider.getNetwork()).chainId);
  const latest = await payer.provider.getBlock('latest');
  if (!latest) throw new Error('no latest block');
  const now = BigInt(latest.timestamp);

  const mine = and(
    eq(escrowPayments.chainId, chainId),
    eq(escrowPayments.escrowAddress, payer.escrowAddress),
    eq(escrowPayments.payer, payer.address),
    eq(escrowPayments.token, token),
    inArray(escrowPayments.payee, payees),
  );
  const lookback = options.lookbackSeconds ?? 7 * 24 * 3600;
  const rows = await db
    .select()
    .from(escrowPayments)
    .where(and(mine, inArray(escrowPayments.status, ['pending', 'locked', 'failed']), gt(escrowPayments.createdAt, sql`now() - make_interval(secs => ${lookback})`)))
    .orderBy(escrowPayments.createdAt);

  const events = (await payer.events(options.fromBlock ?? 0, latest.number)).filter((e) => e.token === token && payees.includes(e.payee));
  const histories = lockHistories(events);
  const open = new Map<string, EscrowLock>();
  for (const payee of payees) for (const lock of await payer.locks(token, payee)) open.set(keyOf(payee, lock.jobId), lock);

  // Which row each lock belongs to: by id first, then pending rows without ids by node, amount and time.
  const owner = new Map<string, Row>();
  for (const row of rows) {
    const id = rowJobId(row);
    if (id !== undefined) owner.set(keyOf(row.payee, id), row);
  }
  const taken = await idsTakenElsewhere(db, mine, [...histories.keys()].filter((k) => !owner.has(k)));
  for (const row of rows) {
    if (row.status !== 'pending' || rowJobId(row) !== undefined) continue;
    const lockKey = matchLostLock(row, histories, (k) => owner.has(k) || taken.has(k), window);
    if (lockKey) owner.set(lockKey, row);
  }

  const updates = new Map<string, { row: Row; change: Change }>();
  const toCancel: EscrowLock[] = [];
  for (const [key, row] of owner) {
    const history = histories.get(key);
    const lock = open.get(key);
    const jobId = key.slice(key.indexOf(':') + 1);
    const seen: Change = { escrowJobId: jobId };
    if (history?.lock) {
      seen.lockTx = history.lock.txHash;
      seen.amount = history.lock.amount.toString();
      seen.expiresAt = new Date(Number(history.lock.expiry) * 1000);
    } else if (lock) {
      seen.amount = lock.amount.toString();
      seen.expiresAt = new Date(Number(lock.expiry) * 1000);
    }
    const end = history?.end;
    if (end?.kind === 'claimed') {
      updates.set(row.id, { row, change: { ...seen, status: 'claimed', claimedAmount: end.amount.toString(), claimTx: end.txHash } });
    } else if (end?.kind === 'canceled' && !lock) {
      updates.set(row.id, { row, change: { ...seen, status: 'canceled', cancelTx: end.txHash } });
    } else if (lock) {
      if (lock.expiry < now) toCancel.push(lock);
      updates.set(row.id, { row, change: { ...seen, status: 'locked' } });
    }
  }
  const orphans = [...open].filter(([key]) => !owner.has(key) && !taken.has(key)).map(([, lock]) => lock);
  for (const lock of orphans) (lock.expiry < now ? toCancel : summary.orphans).push(lock);

  if (toCancel.length > 0) {
    const { tx, canceled } = await payer.cancelExpired(toCancel);
    for (const lock of canceled) {
      const row = owner.get(keyOf(lock.payee, lock.jobId));
      if (!row) {
        summary.orphansCanceled++;
        continue;
      }
      const update = updates.get(row.id);
      if (update) update.change = { ...update.change, status: 'canceled', cancelTx: tx?.txHash ?? null };
    }
    // Not expired yet by the cancel's block: orphans wait for the next run.
    const done = new Set(canceled);
    for (const lock of orphans) if (!done.has(lock) && lock.expiry < now) summary.orphans.push(lock);
  }

  for (const { row, change } of updates.values()) {
    if (!changes(row, change)) continue;
    const written = await db
      .update(escrowPayments)
      .set({ ...change, updatedAt: new Date() })
      .where(and(eq(escrowPayments.id, row.id), eq(escrowPayments.status, row.status)))
      .returning({ id: escrowPayments.id });
    if (written.length === 0 || change.status === row.status) continue;
    if (change.status === 'locked') summary.locked++;
    else if (change.status === 'claimed') summary.claimed++;
    else if (change.status === 'canceled') summary.canceled++;
  }
  return summary;
}

/** Lock keys (payee:jobId) a row outside this run's set already holds (a finished job's). */
async function idsTakenElsewhere(db: Db, mine: ReturnType<typeof and>, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const ids = [...new Set(keys.map((k) => k.slice(k.indexOf(':') + 1)))];
  const rows = await db
    .select({ payee: escrowPayments.payee, escrowJobId: escrowPayments.escrowJobId })
    .from(escrowPayments)
    .where(and(mine, inArray(escrowPayments.escrowJobId, ids)));
  return new Set(rows.map((r) => keyOf(r.payee, r.escrowJobId as string)));
}

/**
 * The lock a pending row without ids most likely paid: same payee and amount, made within the window
 * around the row's creation (claimed or not: the node may have run the job we lost track of); the
 * earliest such lock no other row holds.
 */
function matchLostLock(
  row: Row,
  histories: ReturnType<typeof lockHistories>,
  isTaken: (key: string) => boolean,
  window: { before: number; after: number },
): string | undefined {
  const created = BigInt(Math.floor(row.createdAt.getTime() / 1000));
  let best: { key: string; at: bigint } | undefined;
  for (const [key, h] of histories) {
    const lock = h.lock;
    if (!lock || lock.payee !== getAddress(row.payee) || lock.amount.toString() !== row.amount || isTaken(key)) continue;
    const at = lock.expiry - lock.lockSeconds;
    if (at < created - BigInt(window.before) || at > created + BigInt(window.after)) continue;
    if (!best || at < best.at) best = { key, at };
  }
  return best?.key;
}

function changes(row: Row, change: Change): boolean {
  for (const [field, value] of Object.entries(change)) {
    const current = row[field as keyof Row];
    if (value instanceof Date && current instanceof Date ? value.getTime() !== current.getTime() : value !== current) return true;
  }
  return false;
}
