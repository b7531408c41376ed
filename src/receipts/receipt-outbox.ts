// The receipt outbox: a worker leaves a succeeded job's attestation here in the transaction that
// settles the job; the gateway drains it, signing the receipt with its active key, appending it to
// the log and deleting the row in one transaction. So a charged job always ends with one receipt,
// whoever crashed in between, and only the gateway ever holds the receipt signing key.
import type { FastifyBaseLogger } from 'fastify';
import { asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/database.js';
import type { JobRow } from '../jobs/job-repository.js';
import { jobs } from '../jobs/jobs-schema.js';
import { models } from '../models/models-schema.js';
import { escrowPayments } from '../ocean/escrow-schema.js';
import { servedByOceanNode } from '../ocean/ocean-node-receipt.js';
import type { KeyStore } from './key-store.js';
import { createReceiptIssuer } from './receipt-issuer.js';
import { receiptOutbox } from './receipts-schema.js';
import type { JwsSigner } from './signing-keys.js';
import type { TransparencyLog } from './transparency-log.js';

export interface OutboxEntry {
  jobId: string;
  attestation: string;
  worker: { id: string; runtime: { name: string; version: string }; device: 'cpu' | 'gpu' };
}

/** Called inside the settling transaction; a second settle of the same job adds nothing. */
export async function addToReceiptOutbox(tx: DbOrTx, entry: OutboxEntry): Promise<void> {
  await tx
    .insert(receiptOutbox)
    .values({ jobId: entry.jobId, attestation: entry.attestation, worker: entry.worker })
    .onConflictDoNothing({ target: receiptOutbox.jobId });
}

export type DrainOutcome = 'issued' | 'gone' | 'locked' | 'failed';

export interface ReceiptOutboxDeps {
  db: Db;
  keyStore: Pick<KeyStore, 'currentGateway' | 'publicKey'>;
  log: TransparencyLog;
  logger: FastifyBaseLogger;
  /** Told the key each drain signs with, so tree heads follow a rotation too. */
  onSigner?: (signer: JwsSigner) => void;
  /** Fault injection for tests: throw after the receipt is signed and logged, before commit. */
  faultCrashBeforeCommit?: boolean;
}

export function createReceiptOutbox(deps: ReceiptOutboxDeps) {
  const { db, logger } = deps;

  /** The active gateway key, read from Postgres before each drain: a rotation anywhere signs the next receipt. */
  async function issuerNow() {
    const signer = await deps.keyStore.currentGateway();
    deps.onSigner?.(signer);
    return createReceiptIssuer({ db, log: deps.log, signer, keys: deps.keyStore });
  }

  async function recordFailure(jobId: string, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    logger.error({ err, jobId }, 'issuing a receipt from the outbox failed; it stays there and is retried');
    await db
      .update(receiptOutbox)
      .set({
        attempts: sql`${receiptOutbox.attempts} + 1`,
        // Backing off: 1 s, 2 s, 4 s … at most 5 minutes between tries (attempts is the old count here).
        nextAttemptAt: sql`now() + least(300, power(2, least(${receiptOutbox.attempts}, 9))) * interval '1 second'`,
        lastError: message.slice(0, 1000),
      })
      .where(eq(receiptOutbox.jobId, jobId))
      .catch((e) => logger.warn({ err: e, jobId }, 'recording the failed receipt issue failed'));
  }

  /**
   * Issues the receipts of these jobs in one transaction (group commit): their outbox rows locked,
   * then one log append for all, the rows deleted in the same statement. Waiting for rows (a
   * request wants these receipts) or skipping them (a sweep: another replica has them); a row
   * deleted meanwhile is simply gone, its receipt committed. A batch that fails as a whole is
   * retried job by job, so one bad row never holds up the others.
   */
  async function issueBatch(
    jobIds: string[],
    issuer: Awaited<ReturnType<typeof issuerNow>>,
    wait: boolean,
    /** Final jobs the caller has (read-only once the job is final), by id. */
    known: Map<string, JobRow> = new Map(),
  ): Promise<Map<string, DrainOutcome>> {
    const outcomes = new Map<string, DrainOutcome>();
    const refused = new Map<string, unknown>();
    try {
      await db.transaction(async (tx) => {
        const locking = tx
          .select({ row: receiptOutbox, job: jobs, model: models, payment: escrowPayments })
          .from(receiptOutbox)
          .leftJoin(jobs, eq(jobs.id, receiptOutbox.jobId))
          .leftJoin(models, eq(models.id, jobs.modelId))
          .leftJoin(escrowPayments, eq(escrowPayments.jobId, receiptOutbox.jobId))
          .where(inArray(receiptOutbox.jobId, jobIds))
          .orderBy(asc(receiptOutbox.jobId));
        const rows = await (wait ? locking.for('update', { of: receiptOutbox }) : locking.for('update', { of: receiptOutbox, skipLocked: true }));
        for (const id of jobIds) outcomes.set(id, wait ? 'gone' : 'locked');
        const inputs = rows.flatMap(({ row, job, model, payment }) => {
          const final = known.get(row.jobId) ?? job;
          if (!final || !model) {
            refused.set(row.jobId, new Error(`job ${row.jobId} or its model is gone`));
            return [];
          }
          return [{ job: final, model, worker: row.worker, attestation: row.attestation, servedBy: servedByOceanNode(model, payment) }];
        });
        // One receipt per job: the issuer returns an existing one instead of signing twice.
        const issued = await issuer.issueMany(inputs, tx, (done) => [sql`DELETE FROM receipt_outbox WHERE job_id IN (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(done)}::jsonb))`]);
        if (deps.faultCrashBeforeCommit) throw new Error('fault injection: crashed before committing the receipt');
        for (const [jobId, got] of issued) {
          if (got instanceof Error) refused.set(jobId, got);
          else outcomes.set(jobId, 'issued');
        }
      });
    } catch (err) {
      if (jobIds.length > 1) {
        const one = await Promise.all(jobIds.map(async (id) => [id, (await issueBatch([id], issuer, wait, known)).get(id)] as const));
        return new Map(one.map(([id, outcome]) => [id, outcome ?? 'failed']));
      }
      refused.clear();
      refused.set(jobIds[0], err);
    }
    for (const [jobId, err] of refused) {
      outcomes.set(jobId, 'failed');
      await recordFailure(jobId, err);
    }
    return outcomes;
  }

  // Requests waiting for their receipts at the same time share one batch (group commit): the jobs
  // asked for while a batch runs go together in the next one.
  let waiting = new Map<string, { known?: JobRow; resolve: (o: DrainOutcome) => void; reject: (e: unknown) => void }[]>();
  let draining = false;

  async function drainWaiting(): Promise<void> {
    draining = true;
    try {
      while (waiting.size > 0) {
        const batch = waiting;
        waiting = new Map();
        try {
          const known = new Map<string, JobRow>();
          for (const [id, callers] of batch) {
            const job = callers.find((c) => c.known)?.known;
            if (job) known.set(id, job);
          }
          const outcomes = await issueBatch([...batch.keys()], await issuerNow(), true, known);
          for (const [id, callers] of batch) for (const c of callers) c.resolve(outcomes.get(id) ?? 'failed');
        } catch (err) {
          for (const callers of batch.values()) for (const c of callers) c.reject(err);
        }
      }
    } finally {
      draining = false;
    }
  }

  let sweeping: Promise<number> | null = null;

  /** Issues every due row (oldest first, at most `limit`); rows other replicas hold are skipped. Never overlaps itself. */
  function sweep(limit = 100): Promise<number> {
    sweeping ??= (async () => {
        try {
          const due = await db
            .select({ jobId: receiptOutbox.jobId })
            .from(receiptOutbox)
            .where(lte(receiptOutbox.nextAttemptAt, sql`now()`))
            .orderBy(asc(receiptOutbox.createdAt))
            .limit(limit);
          // Read every tick, due rows or not: tree heads this replica signs follow a rotation elsewhere.
          const issuer = await issuerNow();
          if (due.length === 0) return 0;
          const outcomes = await issueBatch(
            due.map((d) => d.jobId),
            issuer,
            false,
          );
          return [...outcomes.values()].filter((o) => o === 'issued').length;
        } finally {
          sweeping = null;
        }
      })();
    return sweeping;
  }

  return {
    /**
     * Issues this job's receipt now if the outbox holds it (waiting for a replica already on it),
     * in one batch with the other jobs whose receipts are asked for meanwhile.
     */
    drainJob(jobId: string, known?: { job: JobRow }): Promise<DrainOutcome> {
      return new Promise<DrainOutcome>((resolve, reject) => {
        const callers = waiting.get(jobId) ?? [];
        callers.push({ known: known?.job, resolve, reject });
        waiting.set(jobId, callers);
        // Started after the current tick, so the requests of one tick go together from the first batch.
        if (!draining) {
          draining = true;
          queueMicrotask(() => void drainWaiting());
        }
      });
    },

    sweep,

    /** Sweeps now and every `intervalMs` until the returned stop() (which waits for a sweep under way). */
    start(intervalMs: number) {
      const tick = () => {
        sweep().catch((err) => logger.warn({ err }, 'receipt outbox sweep failed; trying again'));
      };
      tick();
      const timer = setInterval(tick, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await sweeping?.catch(() => {});
      };
    },
  };
}

export type ReceiptOutbox = ReturnType<typeof createReceiptOutbox>;
