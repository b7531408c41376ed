// Verifies a transparency-log tree head: the gateway's signed commitment to a root at a size.
import type { SignedTreeHead } from '../receipts/log-types.js';
import { canonicalJson } from './canonical-json.js';
import { verifyCompactJws } from './jws.js';
import type { TrustedKeys } from './keys.js';

export const TREE_HEAD_TYP = 'posthuman-tree-head+jws';

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
