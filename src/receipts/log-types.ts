// Wire shapes of the transparency log (tree heads, proofs) and the JWKS, as TypeBox schemas that
// routes can declare as responses.
import { type Static, Type } from 'typebox';

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const TreeHeadAnchor = Type.Object(
  { tx_hash: Type.String(), chain_id: Type.Integer() },
  { additionalProperties: false, title: 'TreeHeadAnchor', description: 'The chain transaction that recorded this head' },
);

export const SignedTreeHead = Type.Object(
  {
    tree_size: Type.Integer({ minimum: 0 }),
    root_hash: Sha256Hex,
    timestamp: Type.String({ format: 'date-time' }),
    signature: Type.String({ description: 'Gateway JWS over canonical { tree_size, root_hash, timestamp }' }),
    anchor: Type.Union([TreeHeadAnchor, Type.Null()]),
  },
  {
    additionalProperties: false,
    title: 'TreeHead',
    description: 'A signed head of the transparency log (RFC 6962 root over the first tree_size receipts)',
    examples: [{ tree_size: 42, root_hash: '2f9c1e0a7b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6', timestamp: '2026-11-27T10:52:00.000Z', signature: 'eyJhbGciOiJFZERTQSIs…', anchor: { tx_hash: '0x8e1f…c2d4', chain_id: 8996 } }],
  },
);
export type SignedTreeHead = Static<typeof SignedTreeHead>;

export const InclusionProof = Type.Object(
  {
    receipt_id: Type.String({ format: 'uuid' }),
    log_index: Type.Integer({ minimum: 0 }),
    leaf_hash: Sha256Hex,
    tree_size: Type.Integer({ minimum: 1 }),
    hashes: Type.Array(Sha256Hex, { description: 'RFC 6962 audit path, nearest sibling first' }),
    tree_head: SignedTreeHead,
  },
  { additionalProperties: false, title: 'InclusionProof', description: "A receipt's RFC 6962 inclusion proof and the signed head it leads to" },
);
export type InclusionProof = Static<typeof InclusionProof>;

export const ConsistencyProof = Type.Object(
  {
    from_size: Type.Integer({ minimum: 1 }),
    to_size: Type.Integer({ minimum: 1 }),
    hashes: Type.Array(Sha256Hex, { description: 'RFC 6962 consistency proof' }),
  },
  {
    additionalProperties: false,
    title: 'ConsistencyProof',
    description: 'Proof that the log of to_size extends the log of from_size (nothing rewritten)',
    examples: [{ from_size: 10, to_size: 42, hashes: ['2f9c1e0a7b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6'] }],
  },
);
export type ConsistencyProof = Static<typeof ConsistencyProof>;

export const PublicJwkSchema = Type.Object(
  {
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    x: Type.String(),
    kid: Type.String(),
    alg: Type.Literal('EdDSA'),
    use: Type.Literal('sig'),
  },
  { title: 'PublicJwk' },
);

export const JwksSchema = Type.Object(
  { keys: Type.Array(PublicJwkSchema) },
  {
    title: 'Jwks',
    description: 'Every signing public key, current and retired',
    examples: [{ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'gw-2026-11-27-9ae989f6', alg: 'EdDSA', use: 'sig' }] }],
  },
);
