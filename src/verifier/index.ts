// The receipt verifier: everything `posthuman verify`, `POST /v1/receipts/verify` and a browser
// need to check a receipt against published keys, the chain and the marketplace's identity. No
// database, server or Node-only imports (test/unit/verifier/import-graph.test.ts keeps it so).
export { ATTESTATION_TYP, AttestationPayload, decodeAttestation, Runtime, verifyAttestation } from './attestation.js';
export { canonicalBytes, canonicalJson, type JsonValue, toJsonValue } from './canonical-json.js';
export { getJson } from './fetch-json.js';
export { checkReceiptAtGateway, type GatewayCheck } from './gateway-check.js';
export { type JsonRpc, jsonRpcOverHttp } from './json-rpc.js';
export { decodeCompactJws, verifyCompactJws } from './jws.js';
export { type Jwks, type KeyPurpose, type PublicJwk, type TrustedKeys, isTrustedKeys } from './keys.js';
export {
  identityOf,
  MARKETPLACE_DOCUMENT_PATH,
  type MarketplaceDocument,
  MarketplaceDocumentSchema,
  type MarketplaceIdentity,
  parseMarketplaceDocument,
} from './marketplace-document.js';
export { ANCHOR_HINT, type CheckReceiptInput, checkReceipt, RECEIPT_CHECKS, type ReceiptCheckOutcome, type ReceiptReport } from './receipt-checks.js';
export { decodeReceipt, RECEIPT_TYP, ReceiptPayload, receiptLeafHash } from './receipt-payload.js';
export { type ReceiptCheck, type ReceiptVerification, verifyReceiptInclusion, verifyReceiptSignature } from './receipt-signature.js';
export { TREE_HEAD_TYP, verifyTreeHead } from './tree-head.js';
export { KeysUnavailableError, type ResolvedTrust, resolveTrust, type TrustPins, type TrustReport, type TrustedValue } from './trust.js';
