// Receipt signature and inclusion checks moved to the verifier module (src/verifier/), which runs in
// a browser too; re-exported here for the gateway's own callers.
export { type ReceiptCheck, type ReceiptVerification, verifyReceiptInclusion, verifyReceiptSignature } from '../verifier/receipt-signature.js';
