// Issues a job's receipt: checks the worker's attestation, reserves the log index, signs, and
// stores receipt and log entry in one transaction. Issuing twice for a job returns the first.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { decodeProtectedHeader } from 'jose';
import { type Db, type DbOrTx, inTransaction } from '../db/database.js';
import type { KeyStore } from './key-store.js';
import { buildReceiptPayload, type ReceiptInput, ReceiptBuildError } from './receipt-builder.js';
import { receiptLeafHash, signReceipt } from './receipt-signer.js';
import { receipts } from './receipts-schema.js';
import type { JwsSigner } from './signing-keys.js';
import { lockLogForAppend, type TransparencyLog } from './transparency-log.js';
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

  return {
    /** `input` without the log index and receipt id, which are assigned here. */
    async issue(input: Omit<ReceiptInput, 'logIndex' | 'receiptId'>, on: DbOrTx = db): Promise<IssuedReceipt> {
      return inTransaction(on, async (tx) => {
        // The append lock first: a second issuer for the same job then waits and finds this receipt.
        await lockLogForAppend(tx);
        const [existing] = await tx.select().from(receipts).where(eq(receipts.jobId, input.job.id));
        if (existing) return toIssued(existing, true);

        const kid = decodeKid(input.attestation);
        const workerKey = kid ? await keys.publicKey(kid, tx) : undefined;
        if (!workerKey) throw new ReceiptBuildError(`the attestation's key ${kid ?? '(none)'} is not registered`);
        const attested = await verifyAttestation(input.attestation, workerKey);
        if (!attested.ok) throw new ReceiptBuildError(`the worker's attestation does not verify: ${attested.detail}`);

        const receiptId = randomUUID();
        const entry = await log.appendWithIndex(
          receiptId,
          async (logIndex) => {
            const jws = await signReceipt(signer, buildReceiptPayload({ ...input, receiptId, logIndex }));
            return { jws, leafHash: receiptLeafHash(jws) };
          },
          tx,
        );
        const [row] = await tx.insert(receipts).values({ receiptId, jobId: input.job.id, logIndex: entry.idx, jws: entry.jws }).returning();
        return toIssued(row, false);
      });
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
