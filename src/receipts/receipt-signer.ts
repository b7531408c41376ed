// Signs receipts as compact JWS with the gateway key, reads them back, and names their log leaf.
import type { ProtectedHeaderParameters } from 'jose';
import { decodeCompactJws } from './jws-compact.js';
import { leafHash, toHex } from './merkle.js';
import { type ReceiptPayload, receiptPayloadChecker } from './receipt-builder.js';
import { type JwsSigner, signCanonical } from './signing-keys.js';

export const RECEIPT_TYP = 'posthuman-receipt+jws';

export async function signReceipt(signer: JwsSigner, payload: ReceiptPayload): Promise<string> {
  if (signer.purpose !== 'gateway') throw new TypeError(`receipts are signed with a gateway key, not ${signer.kid}`);
  if (!receiptPayloadChecker.Check(payload)) throw new TypeError('receipt payload does not match its schema');
  return signCanonical(signer, payload, RECEIPT_TYP);
}

/** Reads a receipt without verifying anything; throws when it is not a well-formed receipt. */
export function decodeReceipt(jws: string): { header: ProtectedHeaderParameters; payload: ReceiptPayload } {
  const { header, payload } = decodeCompactJws(jws);
  if (header.typ !== RECEIPT_TYP) throw new TypeError(`not a receipt (typ ${String(header.typ)})`);
  if (!receiptPayloadChecker.Check(payload)) throw new TypeError('receipt payload does not match its schema');
  return { header, payload };
}

/**
 * The receipt's transparency-log leaf hash: SHA-256(0x00 || the compact JWS's ASCII bytes). The
 * leaf covers the signature too, so the log commits to exactly the artefact a holder can show.
 */
export function receiptLeafHash(jws: string): string {
  return toHex(leafHash(jws));
}
