// Wire shapes of the transparency log (tree heads, proofs) and the JWKS, as TypeBox schemas that
// routes can declare as responses.
import { type Static, Type } from 'typebox';

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const TreeHeadAnchor = Type.Object(
  { tx_hash: Type.String(), chain_id: Type.Integer() },
  { additionalProperties: false, description: 'The chain transaction that recorded this head' },
);

export const SignedTreeHead = Type.Object(
  {
    tree_size: Type.Integer({ minimum: 0 }),
    root_hash: Sha256Hex,
    timestamp: Type.String({ format: 'date-time' }),
    signature: Type.String({ description: 'Gateway JWS over canonical { tree_size, root_hash, timestamp }' }),
    anchor: Type.Union([TreeHeadAnchor, Type.Null()]),
  },
  { additionalProperties: false },
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
  { additionalProperties: false },
);
export type InclusionProof = Static<typeof InclusionProof>;

export const ConsistencyProof = Type.Object(
  {
    from_size: Type.Integer({ minimum: 1 }),
    to_size: Type.Integer({ minimum: 1 }),
    hashes: Type.Array(Sha256Hex, { description: 'RFC 6962 consistency proof' }),
  },
  { additionalProperties: false },
);
export type ConsistencyProof = Static<typeof ConsistencyProof>;

export const PublicJwkSchema = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.Literal('EdDSA'),
  use: Type.Literal('sig'),
});

export const JwksSchema = Type.Object({ keys: Type.Array(PublicJwkSchema) });
