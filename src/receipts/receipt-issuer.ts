// Issues jobs' receipts: checks each worker's attestation, reserves the log indexes, signs, and
// stores receipts and log entries in one transaction and one write statement (group commit: a batch
// of jobs shares one acquisition of the log's lock). Issuing twice for a job returns the first.
import { randomUUID } from 'node:crypto';
import { eq, inArray, type SQL, sql } from 'drizzle-orm';
import { decodeProtectedHeader } from 'jose';
import { type Db, type DbOrTx, inTransaction } from '../db/database.js';
import type { KeyStore } from './key-store.js';
import { buildReceiptPayload, type ReceiptInput, ReceiptBuildError } from './receipt-builder.js';
import { receiptLeafHash, signReceipt } from './receipt-signer.js';
import { receipts } from './receipts-schema.js';
import type { JwsSigner } from './signing-keys.js';
import type { TransparencyLog } from './transparency-log.js';
import { verifyAttestation } from './worker-attestation.js';

export interface IssuedReceipt {
  receiptId: string;
  jobId: string;
  logIndex: number;
  leafHash: string;
  jws: string;
  /** True when the job already had a receipt and that one is returned. */
  replayed: boolean;
}

type Row = typeof receipts.$inferSelect;
const toIssued = (row: Row, replayed: boolean): IssuedReceipt => ({
  receiptId: row.receiptId,
  jobId: row.jobId,
  logIndex: row.logIndex,
  leafHash: receiptLeafHash(row.jws),
  jws: row.jws,
  replayed,
});

export function createReceiptIssuer(deps: {
  db: Db;
  log: TransparencyLog;
  /** The gateway's receipt signer (`keyStore.ensureActive('gateway')`). */
  signer: JwsSigner;
  /** Where worker public keys are looked up, so an attestation is verified before it is vouched for. */
  keys: Pick<KeyStore, 'publicKey'>;
}) {
  const { db, log, signer, keys } = deps;

  type Input = Omit<ReceiptInput, 'logIndex' | 'receiptId'>;

  /** Checks the worker's attestation against its registered key; the reason when it fails. */
  async function attestationProblem(input: Input, tx: DbOrTx): Promise<ReceiptBuildError | undefined> {
    const kid = decodeKid(input.attestation);
    const workerKey = kid ? await keys.publicKey(kid, tx) : undefined;
    if (!workerKey) return new ReceiptBuildError(`the attestation's key ${kid ?? '(none)'} is not registered`);
    const attested = await verifyAttestation(input.attestation, workerKey);
    return attested.ok ? undefined : new ReceiptBuildError(`the worker's attestation does not verify: ${attested.detail}`);
  }

  /**
   * Group commit: issues the receipts of several jobs with one acquisition of the log's append
   * lock, one read of the next index and one statement writing every leaf, subtree and receipt
   * (and `alsoWrite`'s statements, given the job ids issued or found issued). Each job gets its
   * receipt (a job that has one already gets that one, `replayed`) or the error that refused it;
   * a refused job appends nothing and does not hold up the others.
   */
  async function issueMany(
    inputs: Input[],
    on: DbOrTx = db,
    alsoWrite: (jobIds: string[]) => SQL[] = () => [],
  ): Promise<Map<string, IssuedReceipt | ReceiptBuildError>> {
    return inTransaction(on, async (tx) => {
      const out = new Map<string, IssuedReceipt | ReceiptBuildError>();
      const jobIds = [...new Set(inputs.map((i) => i.job.id))];
      // Checked before the log's lock is taken (nothing there depends on it), so the lock is held
      // for the index, the signatures and the write only.
      const problems = await Promise.all(inputs.map((input) => attestationProblem(input, tx)));
      const written = await log.appendBatch(
        async (first) => {
          // Under the append lock: a second issuer for the same job waits and finds this receipt.
          const existing = await tx.select().from(receipts).where(inArray(receipts.jobId, jobIds));
          for (const row of existing) out.set(row.jobId, toIssued(row, true));
          const leaves: { receiptId: string; jobId: string; leafHash: string; jws: string }[] = [];
          for (const [i, input] of inputs.entries()) {
            if (out.has(input.job.id) || leaves.some((l) => l.jobId === input.job.id)) continue;
            const problem = problems[i];
            if (problem) {
              out.set(input.job.id, problem);
              continue;
            }
            const receiptId = randomUUID();
            let payload: ReturnType<typeof buildReceiptPayload>;
            try {
              payload = buildReceiptPayload({ ...input, receiptId, logIndex: first + leaves.length });
            } catch (err) {
              if (!(err instanceof ReceiptBuildError)) throw err;
              out.set(input.job.id, err);
              continue;
            }
            const jws = await signReceipt(signer, payload);
            leaves.push({ receiptId, jobId: input.job.id, leafHash: receiptLeafHash(jws), jws });
          }
          return leaves;
        },
        tx,
        (entries) => {
          const rows = entries.map((e) => ({ receipt_id: e.receiptId, job_id: e.jobId, log_index: e.idx, jws: e.jws }));
          return [
            sql`INSERT INTO receipts (receipt_id, job_id, log_index, jws)
                SELECT receipt_id, job_id, log_index, jws FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
                  AS r(receipt_id uuid, job_id uuid, log_index bigint, jws text)`,
            ...alsoWrite(jobIds.filter((id) => !(out.get(id) instanceof ReceiptBuildError))),
          ];
        },
      );
      for (const e of written) out.set(e.jobId, { receiptId: e.receiptId, jobId: e.jobId, logIndex: e.idx, leafHash: e.leafHash, jws: e.jws, replayed: false });
      if (written.length === 0) {
        // Nothing appended (every job issued before, or refused): the caller's writes still run.
        const writes = alsoWrite(jobIds.filter((id) => !(out.get(id) instanceof ReceiptBuildError)));
        for (const w of writes) await tx.execute(w);
      }
      return out;
    });
  }

  return {
    issueMany,

    /** `input` without the log index and receipt id, which are assigned here. */
    async issue(input: Input, on: DbOrTx = db): Promise<IssuedReceipt> {
      const got = (await issueMany([input], on)).get(input.job.id);
      if (!got) throw new Error(`no receipt was issued for job ${input.job.id}`);
      if (got instanceof ReceiptBuildError) throw got;
      return got;
    },

    async findByJob(jobId: string, on: DbOrTx = db): Promise<IssuedReceipt | undefined> {
      const [row] = await on.select().from(receipts).where(eq(receipts.jobId, jobId));
      return row && toIssued(row, false);
    },

    async find(receiptId: string, on: DbOrTx = db): Promise<IssuedReceipt | undefined> {
      const [row] = await on.select().from(receipts).where(eq(receipts.receiptId, receiptId));
      return row && toIssued(row, false);
    },
  };
}

export type ReceiptIssuer = ReturnType<typeof createReceiptIssuer>;

function decodeKid(jws: string): string | undefined {
  try {
    return decodeProtectedHeader(jws).kid;
  } catch {
    return undefined;
  }
}
