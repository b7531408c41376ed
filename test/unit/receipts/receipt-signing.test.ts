import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../../src/receipts/canonical-json.js';
import { buildReceiptPayload, ReceiptBuildError } from '../../../src/receipts/receipt-builder.js';
import { decodeReceipt, signReceipt } from '../../../src/receipts/receipt-signer.js';
import { verifyReceiptSignature } from '../../../src/receipts/receipt-verifier.js';
import { attestationPayload, signAttestation } from '../../../src/receipts/worker-attestation.js';
import { inferJob, runtime, signedReceipt, type TestKey, testKey, testModel } from './receipt-fixture.js';

let gateway: TestKey;
let worker: TestKey;
let jwks: { keys: TestKey['jwk'][] };
beforeAll(async () => {
  gateway = await testKey('gateway');
  worker = await testKey('worker', 'worker-1');
  jwks = { keys: [gateway.jwk, worker.jwk] };
});

/** Every leaf of a JSON value as [path, value]. */
function leaves(value: unknown, path: (string | number)[] = []): [(string | number)[], unknown][] {
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, Array.isArray(value) ? Number(k) : k]));
  }
  return [[path, value]];
}

function withLeaf(root: unknown, path: (string | number)[], next: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = next;
  return copy;
}

const changed = (v: unknown) => (typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : v === null ? 'x' : `${String(v)}x`);

/** The same JWS with its payload swapped for `payload` (canonically encoded), keeping header and signature. */
function swapPayload(jws: string, payload: unknown): string {
  const [header, , signature] = jws.split('.');
  return `${header}.${Buffer.from(canonicalJson(payload)).toString('base64url')}.${signature}`;
}

describe('receipt signing', () => {
  it('signs canonical JSON under the receipt typ and verifies signature and attestation', async () => {
    const { jws, payload } = await signedReceipt({ gateway, worker });
    const { header, payload: decoded } = decodeReceipt(jws);
    expect(header).toEqual({ alg: 'EdDSA', kid: gateway.signer.kid, typ: 'posthuman-receipt+jws' });
    expect(decoded).toEqual(payload);
    expect(payload.cost).toBe('12345678901234567890');
    expect(payload.parameters).toEqual({ max_new_tokens: 4, temperature: 0.7, top_k: 40, seed: 7 });
    const result = await verifyReceiptSignature(jws, jwks);
    expect(result.checks).toEqual([
      { check: 'signature', ok: true, detail: `signed by ${gateway.signer.kid}` },
      { check: 'attestation', ok: true, detail: `attested by ${worker.signer.kid}` },
    ]);
    expect(result.ok).toBe(true);
  });

  it('fails the signature when any single leaf of the payload changes', async () => {
    const { jws, payload } = await signedReceipt({ gateway, worker });
    const all = leaves(payload);
    expect(all.length).toBeGreaterThan(25);
    for (const [path, value] of all) {
      const tampered = swapPayload(jws, withLeaf(payload, path, changed(value)));
      const result = await verifyReceiptSignature(tampered, jwks);
      expect(result.ok, path.join('.')).toBe(false);
      expect(result.checks[0], path.join('.')).toMatchObject({ check: 'signature', ok: false, detail: expect.stringContaining('does not verify') });
      expect(result.receipt).toBeUndefined();
    }
    // The unchanged payload re-encoded the same way still verifies, so the failures above are the edits'.
    expect((await verifyReceiptSignature(swapPayload(jws, payload), jwks)).ok).toBe(true);
  });

  it('fails the attestation check when the receipt output hash is not the attested one', async () => {
    const { jws } = await signedReceipt({ gateway, worker, forge: (p) => ({ ...p, output_sha256: sha256Hex('another output') }) });
    const result = await verifyReceiptSignature(jws, jwks);
    expect(result.checks[0]).toMatchObject({ check: 'signature', ok: true });
    expect(result.checks[1]).toEqual({ check: 'attestation', ok: false, detail: 'attestation disagrees with the receipt on output_sha256' });
    expect(result.ok).toBe(false);
  });

  it('refuses to build a receipt whose attestation describes another output', async () => {
    const job = inferJob();
    const attestation = await signAttestation(
      worker.signer,
      attestationPayload({ jobId: job.id, kind: 'infer', request: job.request, result: { output: 'other', finish_reason: 'length' }, weightsSha256: job.weightsSha256, workerId: 'worker-1', runtime }),
    );
    expect(() =>
      buildReceiptPayload({ job, model: testModel, worker: { id: 'worker-1', runtime, device: 'cpu' }, attestation, logIndex: 0 }),
    ).toThrow(ReceiptBuildError);
  });

  it('fails the attestation check when the worker key is unknown', async () => {
    const { jws } = await signedReceipt({ gateway, worker });
    const result = await verifyReceiptSignature(jws, { keys: [gateway.jwk] });
    expect(result.checks[0].ok).toBe(true);
    expect(result.checks[1]).toMatchObject({ check: 'attestation', ok: false, detail: expect.stringContaining('not among the trusted keys') });
  });

  it('still verifies a receipt signed by a rotated-out key while the JWKS lists it', async () => {
    const old = gateway;
    const { jws } = await signedReceipt({ gateway: old, worker });
    const current = await testKey('gateway');
    expect((await verifyReceiptSignature(jws, { keys: [current.jwk, old.jwk, worker.jwk] })).ok).toBe(true);
    expect((await verifyReceiptSignature(jws, { keys: [current.jwk, worker.jwk] })).checks[0].ok).toBe(false);
  });

  it('accepts the pinned key and fails with any other pinned key', async () => {
    const { jws } = await signedReceipt({ gateway, worker });
    expect((await verifyReceiptSignature(jws, gateway.jwk)).checks[0].ok).toBe(true);
    const other = await testKey('gateway');
    expect((await verifyReceiptSignature(jws, other.jwk)).checks[0]).toMatchObject({ ok: false });
    // Same kid, other key material: the signature itself must fail.
    const impostor = { ...other.jwk, kid: gateway.jwk.kid };
    expect((await verifyReceiptSignature(jws, impostor)).checks[0]).toMatchObject({ ok: false, detail: expect.stringContaining('does not verify') });
  });

  it('refuses a receipt signed with a worker key, even one the JWKS lists', async () => {
    const { payload } = await signedReceipt({ gateway, worker });
    const forged = await worker.signer.sign(new TextEncoder().encode(JSON.stringify(payload)), 'posthuman-receipt+jws');
    const result = await verifyReceiptSignature(forged, jwks);
    expect(result.checks[0]).toMatchObject({ ok: false, detail: expect.stringContaining('is not a gateway key') });
    await expect(signReceipt(worker.signer, payload)).rejects.toThrow(/gateway key/);
  });

  it('refuses a correctly signed but non-canonical payload', async () => {
    const { payload } = await signedReceipt({ gateway, worker });
    const spaced = await gateway.signer.sign(new TextEncoder().encode(JSON.stringify(payload, null, 1)), 'posthuman-receipt+jws');
    expect((await verifyReceiptSignature(spaced, jwks)).checks[0]).toMatchObject({ ok: false, detail: 'the payload is not canonical JSON' });
  });
});
