// Checks a receipt against a gateway as an outsider does (`posthuman verify`, the web app): trust
// resolved from its /.well-known document and JWKS (or pins), the chain read through the caller's RPC,
// the newest anchored tree head and the inclusion proof fetched from the gateway and checked.
import type { InclusionProof, SignedTreeHead } from '../receipts/log-types.js';
import { getJson } from './fetch-json.js';
import type { JsonRpc } from './json-rpc.js';
import { checkReceipt, type ReceiptReport } from './receipt-checks.js';
import { type ResolvedTrust, resolveTrust, type TrustPins } from './trust.js';

export interface GatewayCheck {
  report: ReceiptReport;
  trust: ResolvedTrust;
}

/** Throws KeysUnavailableError when the gateway's keys cannot be fetched (and none were pinned). */
export async function checkReceiptAtGateway(input: { jws: string; gateway: string; rpc: JsonRpc | null; pins?: TrustPins }): Promise<GatewayCheck> {
  const { jws, gateway, rpc } = input;
  const trust = await resolveTrust({ gateway, pins: input.pins ?? {} });
  // The tree head answer is the gateway's word: its head is checked against signature and chain.
  let head: { latest_anchored: SignedTreeHead | null } | null = null;
  let headError: string | undefined;
  try {
    head = (await getJson(`${gateway}/v1/log/tree-head`)) as { latest_anchored: SignedTreeHead | null };
  } catch (err) {
    headError = (err as Error).message;
  }
  const report = await checkReceipt({
    jws,
    jwks: trust.keys,
    rpc,
    anchoredHead: head?.latest_anchored ?? null,
    anchoredHeadError: headError,
    fetchInclusion: async (receiptId, treeSize) =>
      (await getJson(`${gateway}/v1/log/proof/inclusion?receipt=${encodeURIComponent(receiptId)}&tree_size=${treeSize}`)) as InclusionProof,
    identity: trust.identity,
  });
  return { report, trust };
}
