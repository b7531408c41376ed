// What a receipt says of a job an external Ocean compute node ran: the node, its job id, and the
// Escrow lock and claim that paid it. A job sent to a node has an escrow_payments row with the node's
// job id; that row, not the model's current backend (which may change later), decides.
import type { ModelRow } from '../models/model-repository.js';
import type { ReceiptPayload } from '../verifier/receipt-payload.js';
import type { escrowPayments } from './escrow-schema.js';

/** The worker a relayed job names: the gateway relays the node's output under its own attestation key. */
export const OCEAN_NODE_RELAY = { id: 'ocean-node-relay', runtime: { name: 'ocean-node', version: 'c2d-v2' } } as const;

export function servedByOceanNode(model: Pick<ModelRow, 'computeNodeUrl'>, payment: typeof escrowPayments.$inferSelect | null): ReceiptPayload['served_by'] {
  if (!payment?.nodeJobId) return undefined;
  return {
    backend: 'ocean-node',
    node: { url: model.computeNodeUrl, address: payment.payee, job_id: payment.nodeJobId },
    escrow: { chain_id: payment.chainId, contract: payment.escrowAddress, token: payment.token, lock_tx: payment.lockTx, claim_tx: payment.claimTx },
  };
}
