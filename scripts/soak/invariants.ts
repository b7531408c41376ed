// The soak's invariant checker: plain SQL over a gateway's real database, usable alone
// (`npm run soak:check -- <DATABASE_URL>`). Each invariant counts its violations and keeps a few rows as evidence.
import type pg from 'pg';

export interface InvariantResult {
  name: string;
  /** What the invariant means, in one line (printed beside the result). */
  rule: string;
  violations: number;
  /** Up to a few offending rows (job ids, hold ids, amounts) to start an investigation from. */
  evidence: Record<string, unknown>[];
}

export interface JobStatusCount {
  kind: string;
  status: string;
  count: number;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.Client, 'query'>;

const EVIDENCE_ROWS = 5;

interface Check {
  name: string;
  rule: string;
  /** A query returning one row per violation (LIMIT is added by the runner; a count is taken apart). */
  sql: string;
}

// Jobs are final once a worker, a cancel or the watchdog settled them; anything else after the drain is stuck.
const CHECKS: Check[] = [
  {
    name: 'every job final',
    rule: "no job left 'queued' or 'running' after the drain",
    sql: `SELECT id AS job_id, kind, status, attempts, worker_id, created_at, started_at FROM jobs
          WHERE status NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY created_at`,
  },
  {
    name: 'charged iff succeeded',
    // README (jobs, cancel): a running job cancelled between tokens pays for the tokens it generated.
    rule: 'succeeded: cost > 0 (unless the model is free); failed: cost 0; cancelled: cost > 0 only if it had started',
    sql: `SELECT id AS job_id, kind, status, cost::text, max_cost::text, started_at, error->>'code' AS error_code FROM jobs
          WHERE (status = 'succeeded' AND (cost IS NULL OR (cost <= 0 AND max_cost > 0)))
             OR (status = 'failed' AND COALESCE(cost, 0) <> 0)
             OR (status = 'cancelled' AND COALESCE(cost, 0) <> 0 AND started_at IS NULL)
             OR COALESCE(cost, 0) < 0
          ORDER BY created_at`,
  },
  {
    name: "hold captured = job's cost",
    rule: "every final job's hold is settled, capturing exactly the job's cost and releasing the rest",
    sql: `SELECT j.id AS job_id, j.status, j.cost::text, h.id AS hold_id, h.status AS hold_status, h.amount::text,
                 h.captured::text, h.released::text
          FROM jobs j JOIN holds h ON h.id = j.hold_id
          WHERE j.status IN ('succeeded', 'failed', 'cancelled')
            AND (h.status <> 'settled' OR h.captured <> COALESCE(j.cost, 0) OR h.captured + h.released <> h.amount)
          ORDER BY j.created_at`,
  },
  {
    name: 'one settlement per hold',
    rule: 'a hold is settled by exactly one ledger transaction, whatever the retries',
    sql: `SELECT h.id AS hold_id, h.status, count(t.id)::int AS settle_transactions
          FROM holds h LEFT JOIN ledger_transactions t ON t.hold_id = h.id AND t.kind = 'settle'
          GROUP BY h.id, h.status
          HAVING count(t.id) > 1 OR (h.status = 'settled' AND count(t.id) <> 1)`,
  },
  {
    name: 'receipt iff succeeded',
    rule: 'every succeeded job has exactly one receipt; no other job has one',
    sql: `SELECT j.id AS job_id, j.kind, j.status, j.worker_id, j.attempts, j.finished_at, count(r.receipt_id)::int AS receipts
          FROM jobs j LEFT JOIN receipts r ON r.job_id = j.id
          GROUP BY j.id
          HAVING (j.status = 'succeeded') <> (count(r.receipt_id) = 1) OR count(r.receipt_id) > 1
          ORDER BY j.finished_at NULLS LAST`,
  },
  {
    name: 'transactions sum to zero',
    rule: "every ledger transaction's entries sum to 0",
    sql: `SELECT t.id AS transaction_id, t.kind, t.hold_id, COALESCE(sum(e.amount), 0)::text AS sum, count(e.id)::int AS entries
          FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
          GROUP BY t.id HAVING COALESCE(sum(e.amount), 0) <> 0`,
  },
  {
    name: 'book balance = its entries',
    rule: "each book's balance equals the sum of its entries",
    sql: `SELECT b.code, b.balance::text, COALESCE(s.total, 0)::text AS entries_total
          FROM ledger_books b LEFT JOIN (SELECT book_id, sum(amount) AS total FROM ledger_entries GROUP BY book_id) s ON s.book_id = b.id
          WHERE b.balance <> COALESCE(s.total, 0)`,
  },
  {
    name: 'no hold left open',
    rule: "no hold is still 'open' after the drain",
    sql: `SELECT h.id AS hold_id, h.account_id, h.amount::text, h.reason, j.id AS job_id, j.status AS job_status
          FROM holds h LEFT JOIN jobs j ON j.hold_id = h.id WHERE h.status = 'open' ORDER BY h.created_at`,
  },
  {
    name: 'no negative balance',
    rule: "no book but 'issuance' and 'deposits' (credit bought on chain) is below zero",
    sql: `SELECT code, kind, balance::text FROM ledger_books WHERE kind NOT IN ('issuance', 'deposits') AND balance < 0`,
  },
  {
    name: 'log indexes contiguous',
    rule: 'transparency log leaves are 0..n-1, no gap, no duplicate',
    // generate_series over the expected range finds gaps; idx is the primary key, so duplicates cannot be
    // stored, but a receipt pointing at another receipt's leaf can: both are reported.
    sql: `SELECT 'gap' AS problem, g.idx AS log_index FROM generate_series(0, (SELECT COALESCE(max(idx), -1) FROM log_entries)) g(idx)
            LEFT JOIN log_entries l ON l.idx = g.idx WHERE l.idx IS NULL
          UNION ALL
          SELECT 'negative index', idx FROM log_entries WHERE idx < 0
          UNION ALL
          SELECT 'receipt and leaf disagree', r.log_index FROM receipts r JOIN log_entries l ON l.idx = r.log_index
            WHERE l.receipt_id <> r.receipt_id
          UNION ALL
          SELECT 'leaf without receipt', l.idx FROM log_entries l LEFT JOIN receipts r ON r.receipt_id = l.receipt_id
            WHERE r.receipt_id IS NULL`,
  },
  {
    name: 'balances = grants − costs',
    rule: "each account: available + held = grants − captured, and held = its open holds",
    sql: `WITH acct AS (
            SELECT a.id,
              COALESCE((SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
                        JOIN ledger_books b ON b.id = e.book_id
                        WHERE t.kind = 'grant' AND b.account_id = a.id AND b.kind = 'available'), 0) AS grants,
              COALESCE((SELECT sum(captured) FROM holds WHERE account_id = a.id), 0) AS captured,
              COALESCE((SELECT sum(amount) FROM holds WHERE account_id = a.id AND status = 'open'), 0) AS open_holds,
              COALESCE((SELECT balance FROM ledger_books WHERE account_id = a.id AND kind = 'available'), 0) AS available,
              COALESCE((SELECT balance FROM ledger_books WHERE account_id = a.id AND kind = 'held'), 0) AS held
            FROM accounts a)
          SELECT id AS account_id, grants::text, captured::text, open_holds::text, available::text, held::text FROM acct
          WHERE available + held <> grants - captured OR held <> open_holds`,
  },
  {
    name: 'key spend = captured + open holds',
    rule: "each API key's spent equals what its jobs captured plus its open holds",
    sql: `SELECT k.id AS api_key_id, k.spent::text,
                 COALESCE(sum(CASE WHEN h.status = 'open' THEN h.amount ELSE h.captured END), 0)::text AS expected
          FROM api_keys k LEFT JOIN holds h ON h.api_key_id = k.id
          GROUP BY k.id HAVING k.spent <> COALESCE(sum(CASE WHEN h.status = 'open' THEN h.amount ELSE h.captured END), 0)`,
  },
];

/** Runs every invariant against the database behind `db`. */
export async function checkInvariants(db: Queryable): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  for (const check of CHECKS) {
    const count = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${check.sql}) v`);
    const rows = await db.query(`SELECT * FROM (${check.sql}) v LIMIT ${EVIDENCE_ROWS}`);
    results.push({ name: check.name, rule: check.rule, violations: count.rows[0].n, evidence: rows.rows });
  }
  return results;
}

/** Jobs counted by kind and status (the table the soak prints before the invariants). */
export async function jobsByKindAndStatus(db: Queryable): Promise<JobStatusCount[]> {
  const { rows } = await db.query<JobStatusCount>(
    'SELECT kind, status, count(*)::int AS count FROM jobs GROUP BY kind, status ORDER BY kind, status',
  );
  return rows;
}

/** Jobs still queued or running: the drain polls this down to zero. */
/** Jobs not final yet, plus succeeded jobs whose receipt still waits in the gateway's outbox. */
export async function unfinishedJobs(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT (SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')) + (SELECT count(*) FROM receipt_outbox) AS n",
  );
  return Number(rows[0].n);
}

export const invariantsPass = (results: InvariantResult[]) => results.every((r) => r.violations === 0);

/** Renders a fixed-width text table (the soak's report is read on a terminal and in CI logs). */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export function formatJobTable(counts: JobStatusCount[]): string {
  const statuses = ['succeeded', 'failed', 'cancelled', 'queued', 'running'];
  const kinds = [...new Set(counts.map((c) => c.kind))];
  const get = (kind: string, status: string) => counts.find((c) => c.kind === kind && c.status === status)?.count ?? 0;
  const rows = kinds.map((k) => [k, ...statuses.map((s) => get(k, s)), statuses.reduce((a, s) => a + get(k, s), 0)]);
  rows.push(['all', ...statuses.map((s) => counts.filter((c) => c.status === s).reduce((a, c) => a + c.count, 0)), counts.reduce((a, c) => a + c.count, 0)]);
  return formatTable(['kind', ...statuses, 'total'], rows);
}

/** One evidence row; log lines found about it (the soak adds them) go below it, one a line. */
function formatEvidence(row: Record<string, unknown>): string {
  const { log, ...fields } = row;
  const lines = Array.isArray(log) ? log.map((l) => `      log ${String(l)}`) : [];
  return [`  ${JSON.stringify(fields)}`, ...lines].join('\n');
}

export function formatInvariantTable(results: InvariantResult[]): string {
  const table = formatTable(
    ['invariant', 'result', 'violations', 'rule'],
    results.map((r) => [r.name, r.violations === 0 ? 'PASS' : 'FAIL', r.violations, r.rule]),
  );
  const evidence = results
    .filter((r) => r.violations > 0)
    .map((r) => `FAIL ${r.name} (${r.violations}); first rows:\n${r.evidence.map(formatEvidence).join('\n')}`);
  return [table, ...evidence].join('\n');
}
