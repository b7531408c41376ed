// The worker's part in receipts: it attests (job, weights, input, output, runtime) with its own key,
// and issues the gateway-signed receipt, appended to the transparency log, after the job settles.
import type { Db } from '../db/database.js';
import type { JobRow } from '../jobs/job-repository.js';
import type { ModelRow } from '../models/model-repository.js';
import { createKeyStore, type KeyStore } from './key-store.js';
import { createReceiptIssuer, type IssuedReceipt } from './receipt-issuer.js';
import { workerKeyName } from './signing-keys.js';
import { createTransparencyLog } from './transparency-log.js';
import { attestationPayload, signAttestation } from './worker-attestation.js';

export interface WorkerReceipts {
  keyStore: KeyStore;
  issueFor(job: JobRow, model: ModelRow, runtime: { name: string; version: string }): Promise<IssuedReceipt>;
}

export async function createWorkerReceipts(deps: { db: Db; dataDir: string; workerId: string }): Promise<WorkerReceipts> {
  const keyStore = createKeyStore({ db: deps.db, dataDir: deps.dataDir });
  // Loaded up front, outside any transaction: signing then never touches the database.
  const gatewaySigner = await keyStore.ensureActive('gateway');
  const workerSigner = await keyStore.ensureActive('worker', workerKeyName(deps.workerId));
  const log = createTransparencyLog({ db: deps.db, signer: gatewaySigner });
  const issuer = createReceiptIssuer({ db: deps.db, log, signer: gatewaySigner, keys: keyStore });
  return {
    keyStore,
    async issueFor(job, model, runtime) {
      const attestation = await signAttestation(
        workerSigner,
        attestationPayload({
          jobId: job.id,
          kind: job.kind,
          request: job.request,
          result: job.result ?? {},
          weightsSha256: job.weightsSha256,
          workerId: deps.workerId,
          runtime,
        }),
      );
      return issuer.issue({ job, model, worker: { id: deps.workerId, runtime, device: 'cpu' }, attestation });
    },
  };
}
