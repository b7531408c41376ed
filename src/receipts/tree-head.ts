// Signs transparency-log tree heads: the gateway's commitment to a root at a size. Verifying one is
// the verifier module's (src/verifier/tree-head.ts), re-exported here.
import { TREE_HEAD_TYP } from '../verifier/tree-head.js';
import { type JwsSigner, signCanonical } from './signing-keys.js';

export { type CheckResult, TREE_HEAD_TYP, verifyTreeHead } from '../verifier/tree-head.js';

export interface TreeHeadBody {
  tree_size: number;
  root_hash: string;
  timestamp: string;
}

export function signTreeHead(signer: JwsSigner, body: TreeHeadBody): Promise<string> {
  if (signer.purpose !== 'gateway') throw new TypeError(`tree heads are signed with a gateway key, not ${signer.kid}`);
  return signCanonical(signer, { tree_size: body.tree_size, root_hash: body.root_hash, timestamp: body.timestamp }, TREE_HEAD_TYP);
}
