// Verifies a receipt with nothing but published keys and log data: the gateway's signature, the
// worker's attestation, and the receipt's inclusion under a signed tree head.
import type { InclusionProof } from '../receipts/log-types.js';
import { verifyAttestation } from './attestation.js';
import { verifyCompactJws } from './jws.js';
import type { TrustedKeys } from './keys.js';
import { verifyInclusion } from './merkle-proof.js';
import { attestationMismatches, RECEIPT_TYP, type ReceiptPayload, receiptLeafHash, receiptPayloadChecker } from './receipt-payload.js';
import { fromHex } from './sha256.js';
import { type CheckResult, verifyTreeHead } from './tree-head.js';

export type ReceiptCheck = CheckResult<'signature' | 'attestation'>;

export interface ReceiptVerification {
  /** True only when every check passed. */
  ok: boolean;
  checks: ReceiptCheck[];
  /** The payload when the gateway's signature verified; never a payload nobody vouched for. */
  receipt: ReceiptPayload | undefined;
}

/**
 * Checks the gateway's signature (a `gw-` key from `trusted`), then the embedded attestation: the
 * worker's signature (a `wk-` key from the same set) and that its digests, runtime and worker id
 * equal the receipt's. A retired key still verifies as long as the set lists it.
 */
export async function verifyReceiptSignature(jws: string, trusted: TrustedKeys): Promise<ReceiptVerification> {
  const signature = await verifyCompactJws(jws, trusted, { typ: RECEIPT_TYP, purpose: 'gateway' });
  let receipt: ReceiptPayload | undefined;
  const checks: ReceiptCheck[] = [];
  if (!signature.ok) {
    checks.push({ check: 'signature', ok: false, detail: signature.detail });
  } else if (!receiptPayloadChecker.Check(signature.payload)) {
    checks.push({ check: 'signature', ok: false, detail: 'signed payload is not a receipt' });
  } else {
    receipt = signature.payload;
    checks.push({ check: 'signature', ok: true, detail: `signed by ${String(signature.header.kid)}` });
  }
  checks.push(receipt ? await checkAttestation(receipt, trusted) : { check: 'attestation', ok: false, detail: 'not checked: the receipt signature did not verify' });
  return { ok: checks.every((c) => c.ok), checks, receipt };
}

async function checkAttestation(receipt: ReceiptPayload, trusted: TrustedKeys): Promise<ReceiptCheck> {
  const verified = await verifyAttestation(receipt.attestation, trusted);
  if (!verified.ok) return { check: 'attestation', ok: false, detail: verified.detail };
  const mismatches = attestationMismatches(receipt);
  if (mismatches.length > 0) {
    return { check: 'attestation', ok: false, detail: `attestation disagrees with the receipt on ${mismatches.join(', ')}` };
  }
  return { check: 'attestation', ok: true, detail: `attested by ${verified.kid}` };
}

/**
 * The receipt's leaf (SHA-256(0x00 || JWS)) sits at the receipt's own `log_index` in the tree the
 * proof's head commits to, and that head carries a valid gateway signature. Whether the head is
 * one anchored on chain is the caller's to check against the chain.
 */
export async function verifyReceiptInclusion(
  jws: string,
  proof: InclusionProof,
  trusted: TrustedKeys,
): Promise<CheckResult<'inclusion'>> {
  const fail = (detail: string) => ({ check: 'inclusion' as const, ok: false, detail });
  const head = await verifyTreeHead(proof.tree_head, trusted);
  if (!head.ok) return fail(`tree head: ${head.detail}`);
  const signed = await verifyCompactJws(jws, trusted, { typ: RECEIPT_TYP, purpose: 'gateway' });
  if (!signed.ok || !receiptPayloadChecker.Check(signed.payload)) return fail('the receipt signature did not verify');
  const leaf = await receiptLeafHash(jws);
  if (leaf !== proof.leaf_hash) return fail('the proof is for another leaf');
  if (signed.payload.log_index !== proof.log_index) {
    return fail(`the receipt says log index ${signed.payload.log_index}, the proof ${proof.log_index}`);
  }
  if (proof.tree_size !== proof.tree_head.tree_size) return fail('the proof and its tree head name different sizes');
  let ok: boolean;
  try {
    ok = await verifyInclusion(fromHex(leaf), proof.log_index, proof.tree_size, proof.hashes.map(fromHex), fromHex(proof.tree_head.root_hash));
  } catch (err) {
    return fail(`malformed proof: ${(err as Error).message}`);
  }
  if (!ok) return fail('the audit path does not lead to the signed root');
  return { check: 'inclusion', ok: true, detail: `entry ${proof.log_index} of ${proof.tree_size}` };
}
