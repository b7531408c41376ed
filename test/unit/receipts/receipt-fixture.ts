// Builds signed receipts from in-memory keys for the receipt unit tests.
import { randomUUID } from 'node:crypto';
import { createJwsSigner, generateSigningKey, type JwsSigner, type PublicJwk } from '../../../src/receipts/signing-keys.js';
import { buildReceiptPayload, type ReceiptJob, type ReceiptPayload } from '../../../src/receipts/receipt-builder.js';
import { signReceipt } from '../../../src/receipts/receipt-signer.js';
import { attestationPayload, signAttestation } from '../../../src/receipts/worker-attestation.js';

export interface TestKey {
  signer: JwsSigner;
  jwk: PublicJwk;
}

export async function testKey(purpose: 'gateway' | 'worker', name?: string): Promise<TestKey> {
  const key = await generateSigningKey(purpose, name);
  return { signer: await createJwsSigner(key.kid, key.privateJwk), jwk: key.publicJwk };
}

export function inferJob(overrides: Partial<ReceiptJob> = {}): ReceiptJob {
  return {
    id: randomUUID(),
    kind: 'infer',
    accountId: randomUUID(),
    weightsSha256: 'ab'.repeat(32),
    request: { input: 'Hello', parameters: { max_new_tokens: 4, temperature: 0.7, top_k: 40, seed: 7 } },
    result: { output: ' world', finish_reason: 'length' },
    inputTokens: 1,
    outputTokens: 4,
    cost: 12_345_678_901_234_567_890n,
    orderTxHash: `0x${'cd'.repeat(32)}`,
    orderChainId: 8996,
    createdAt: new Date('2026-11-27T10:00:00.000Z'),
    startedAt: new Date('2026-11-27T10:00:01.250Z'),
    finishedAt: new Date('2026-11-27T10:00:02.500Z'),
    ...overrides,
  };
}

export const testModel = {
  id: 'tiny-gpt2',
  did: `did:op:${'ef'.repeat(32)}`,
  datatokenAddress: `0x${'12'.repeat(20)}`,
  chainId: 8996,
};

export const runtime = { name: 'posthuman-onnx', version: '1.2.3' };

/** A receipt for `job`, attested by `worker` (over `attestedResult` when given) and signed by `gateway`. */
export async function signedReceipt(opts: {
  gateway: TestKey;
  worker: TestKey;
  job?: ReceiptJob;
  attestedResult?: Record<string, unknown>;
  logIndex?: number;
  /** Skip the builder's own attestation check, to produce a receipt a faulty gateway could sign. */
  forge?: (payload: ReceiptPayload) => ReceiptPayload;
}): Promise<{ jws: string; payload: ReceiptPayload; job: ReceiptJob }> {
  const job = opts.job ?? inferJob();
  const attestation = await signAttestation(
    opts.worker.signer,
    attestationPayload({
      jobId: job.id,
      kind: job.kind,
      request: job.request,
      result: opts.attestedResult ?? job.result ?? {},
      weightsSha256: job.weightsSha256,
      workerId: 'worker-1',
      runtime,
    }),
  );
  const payload = buildReceiptPayload({
    job,
    model: testModel,
    worker: { id: 'worker-1', runtime, device: 'cpu' },
    attestation,
    logIndex: opts.logIndex ?? 3,
  });
  const final = opts.forge ? opts.forge(payload) : payload;
  return { jws: await signReceipt(opts.gateway.signer, final), payload: final, job };
}
