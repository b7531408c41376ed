// Signs receipts as compact JWS with the gateway key, reads them back, and names their log leaf.
import { RECEIPT_TYP, type ReceiptPayload, receiptPayloadChecker } from '../verifier/receipt-payload.js';
import { leafHash, toHex } from './merkle.js';
import { type JwsSigner, signCanonical } from './signing-keys.js';

// Reading a receipt is the verifier module's; signing it and hashing its leaf (sync, on the gateway) stay here.
export { decodeReceipt, RECEIPT_TYP } from '../verifier/receipt-payload.js';

export async function signReceipt(signer: JwsSigner, payload: ReceiptPayload): Promise<string> {
  if (signer.purpose !== 'gateway') throw new TypeError(`receipts are signed with a gateway key, not ${signer.kid}`);
  if (!receiptPayloadChecker.Check(payload)) throw new TypeError('receipt payload does not match its schema');
  return signCanonical(signer, payload, RECEIPT_TYP);
}

/**
 * The receipt's transparency-log leaf hash: SHA-256(0x00 || the compact JWS's ASCII bytes). The
 * leaf covers the signature too, so the log commits to exactly the artefact a holder can show.
 */
export function receiptLeafHash(jws: string): string {
  return toHex(leafHash(jws));
}
