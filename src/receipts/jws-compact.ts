// Compact JWS reading and verification moved to the verifier module (src/verifier/jws.ts), which
// runs in a browser too; re-exported here for the gateway's own callers.
export { type DecodedJws, decodeCompactJws, findTrustedKey, type JwsVerification, verifyCompactJws } from '../verifier/jws.js';
export type { TrustedKeys } from '../verifier/keys.js';
