// The worker's part in receipts: it attests (job, weights, input, output, runtime) with its own key
// and leaves the attestation in the receipt outbox, in the transaction that settles the job. The
// gateway signs the receipt from there (receipt-outbox.ts); a worker never holds a gateway key.
import type { Db } from '../db/database.js';
import type { JobRow } from '../jobs/job-repository.js';
import { createKeyStore } from './key-store.js';
import type { OutboxEntry } from './receipt-outbox.js';
import { type JwsSigner, workerKeyName } from './signing-keys.js';
import { attestationPayload, signAttestation } from './worker-attestation.js';

export interface WorkerReceipts {
  /** The worker's own attestation key (its public half is registered, so the JWKS lists it). */
  signer: JwsSigner;
  /** Signs the attestation of a job that ran here; the entry goes into the outbox with the settlement. */
  attest(job: JobRow, result: Record<string, unknown>, runtime: { name: string; version: string }): Promise<OutboxEntry>;
}

export async function createWorkerReceipts(deps: { db: Db; dataDir: string; workerId: string; keysDir?: string }): Promise<WorkerReceipts> {
  const keyStore = createKeyStore({ db: deps.db, dataDir: deps.dataDir, keysDir: deps.keysDir, role: 'worker' });
  // Loaded up front, outside any transaction: signing then never touches the database.
  const signer = await keyStore.ensureActive('worker', workerKeyName(deps.workerId));
  return {
    signer,
    async attest(job, result, runtime) {
      const attestation = await signAttestation(
        signer,
        attestationPayload({
          jobId: job.id,
          kind: job.kind,
          request: job.request,
          result,
          weightsSha256: job.weightsSha256,
          workerId: deps.workerId,
          runtime,
        }),
      );
      return { jobId: job.id, attestation, worker: { id: deps.workerId, runtime, device: 'cpu' } };
    },
  };
}
