// Signs and verifies transparency-log tree heads: the gateway's commitment to a root at a size.
import { canonicalJson } from './canonical-json.js';
import { type TrustedKeys, verifyCompactJws } from './jws-compact.js';
import type { SignedTreeHead } from './log-types.js';
import { type JwsSigner, signCanonical } from './signing-keys.js';

export const TREE_HEAD_TYP = 'posthuman-tree-head+jws';

export interface TreeHeadBody {
  tree_size: number;
  root_hash: string;
  timestamp: string;
}

export function signTreeHead(signer: JwsSigner, body: TreeHeadBody): Promise<string> {
  if (signer.purpose !== 'gateway') throw new TypeError(`tree heads are signed with a gateway key, not ${signer.kid}`);
  return signCanonical(signer, { tree_size: body.tree_size, root_hash: body.root_hash, timestamp: body.timestamp }, TREE_HEAD_TYP);
}

export interface CheckResult<C extends string> {
  check: C;
  ok: boolean;
  detail: string;
}

/** The signature is a gateway key's, and it signs exactly this head's size, root and timestamp. */
export async function verifyTreeHead(head: SignedTreeHead, trusted: TrustedKeys): Promise<CheckResult<'tree_head'>> {
  const verified = await verifyCompactJws(head.signature, trusted, { typ: TREE_HEAD_TYP, purpose: 'gateway' });
  if (!verified.ok) return { check: 'tree_head', ok: false, detail: verified.detail };
  const expected = canonicalJson({ tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp });
  if (canonicalJson(verified.payload) !== expected) {
    return { check: 'tree_head', ok: false, detail: 'the signature covers another size, root or timestamp' };
  }
  return { check: 'tree_head', ok: true, detail: `size ${head.tree_size} signed by ${String(verified.header.kid)}` };
}
