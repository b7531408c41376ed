// The receipt outbox: a worker leaves a succeeded job's attestation here in the transaction that
// settles the job; the gateway drains it, signing the receipt with its active key, appending it to
// the log and deleting the row in one transaction. So a charged job always ends with one receipt,
// whoever crashed in between, and only the gateway ever holds the receipt signing key.
import type { FastifyBaseLogger } from 'fastify';
import { asc, eq, lte, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/database.js';
import { createJobRepository, type JobRow } from '../jobs/job-repository.js';
import { createModelRepository, type ModelRow } from '../models/model-repository.js';
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

  async function issueOne(
    jobId: string,
    issuer: Awaited<ReturnType<typeof issuerNow>>,
    wait: boolean,
    /** The final job and its model, when the caller has them (both are read-only once the job is final). */
    known?: { job: JobRow; model?: ModelRow },
  ): Promise<DrainOutcome> {
    try {
      return await db.transaction(async (tx) => {
        // Waiting for the row (a request wants this job's receipt) or skipping it (a sweep: another
        // replica has it). A row deleted meanwhile is simply gone: its receipt is committed.
        const locking = tx.select().from(receiptOutbox).where(eq(receiptOutbox.jobId, jobId));
        const [row] = await (wait ? locking.for('update') : locking.for('update', { skipLocked: true }));
        if (!row) return wait ? 'gone' : 'locked';
        const job = known?.job ?? (await createJobRepository(tx).find(jobId));
        const model = known?.model ?? (job && (await createModelRepository(tx).find(job.modelId)));
        if (!job || !model) throw new Error(`job ${jobId} or its model is gone`);
        // One receipt per job: the issuer returns an existing one instead of signing twice.
        await issuer.issue({ job, model, worker: row.worker, attestation: row.attestation }, tx);
        if (deps.faultCrashBeforeCommit) throw new Error('fault injection: crashed before committing the receipt');
        await tx.delete(receiptOutbox).where(eq(receiptOutbox.jobId, jobId));
        return 'issued' as const;
      });
    } catch (err) {
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
      return 'failed';
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
          let issued = 0;
          for (const { jobId } of due) if ((await issueOne(jobId, issuer, false)) === 'issued') issued++;
          return issued;
        } finally {
          sweeping = null;
        }
      })();
    return sweeping;
  }

  return {
    /** Issues this job's receipt now if the outbox holds it (waiting for a replica already on it). */
    async drainJob(jobId: string, known?: { job: JobRow; model?: ModelRow }): Promise<DrainOutcome> {
      return issueOne(jobId, await issuerNow(), true, known);
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
