// The receipts library: what the worker, routes and CLI use to issue, publish and verify receipts.
export { canonicalJson, inputSha256, outputSha256, sha256Hex, toJsonValue } from './canonical-json.js';
export { createKeyStore, type KeyStore } from './key-store.js';
export {
  ConsistencyProof,
  InclusionProof,
  JwksSchema,
  SignedTreeHead,
} from './log-types.js';
export { consistencyProof, inclusionProof, leafHash, rootHash, verifyConsistency, verifyInclusion } from './merkle.js';
export {
  accountPseudonym,
  buildReceiptPayload,
  ReceiptBuildError,
  ReceiptPayload,
  type ReceiptInput,
  type ReceiptJob,
  type ReceiptModel,
  type ReceiptWorker,
} from './receipt-builder.js';
export { createReceiptIssuer, type IssuedReceipt, type ReceiptIssuer } from './receipt-issuer.js';
export { decodeReceipt, RECEIPT_TYP, receiptLeafHash, signReceipt } from './receipt-signer.js';
export { type ReceiptCheck, type ReceiptVerification, verifyReceiptInclusion, verifyReceiptSignature } from './receipt-verifier.js';
export type { TrustedKeys } from './jws-compact.js';
export { type Jwks, type JwsSigner, type KeyPurpose, type PublicJwk, workerKeyName } from './signing-keys.js';
export { createTransparencyLog, type TransparencyLog } from './transparency-log.js';
export { TREE_HEAD_TYP, verifyTreeHead } from './tree-head.js';
export { ATTESTATION_TYP, attestationPayload, decodeAttestation, signAttestation, verifyAttestation } from './worker-attestation.js';
