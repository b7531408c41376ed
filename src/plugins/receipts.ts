// Wires receipts on the gateway: the key store (JWKS), the transparency log and its on-chain anchoring,
// and the receipt outbox the gateway drains (only the gateway signs receipts, with its active key).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createKeyStore, type KeyStore } from '../receipts/key-store.js';
import { createLogAnchoring, type LogAnchoring } from '../receipts/log-anchoring.js';
import { createReceiptOutbox, type ReceiptOutbox } from '../receipts/receipt-outbox.js';
import { createTransparencyLog, type TransparencyLog } from '../receipts/transparency-log.js';
import type { JwsSigner } from '../receipts/signing-keys.js';

declare module 'fastify' {
  interface FastifyInstance {
    keyStore: KeyStore;
    transparencyLog: TransparencyLog;
    /** Null with CHAIN=off: heads are signed but not anchored. */
    logAnchoring: LogAnchoring | null;
    /** A new gateway signing key; the old one stays in the JWKS so old receipts still verify. */
    rotateGatewayKey(): Promise<string>;
    /** Receipts workers left to issue; null only in the document-only app. */
    receiptOutbox: ReceiptOutbox | null;
  }
}

/** How often the gateway sweeps the receipt outbox (a waiting request drains its own job at once). */
export const RECEIPT_SWEEP_MS = 1000;

export default fp(
  async function receipts(app: FastifyInstance, opts: { documentOnly?: boolean }) {
    const keyStore = createKeyStore({ db: app.db, dataDir: app.config.dataDir });
    // Loaded before any request: signing then never queries the database inside a transaction.
    // (The OpenAPI writer builds the app without a database, and signs nothing.)
    let current: JwsSigner = opts.documentOnly
      ? { kid: 'none', purpose: 'gateway' as const, sign: async () => { throw new Error('document-only app'); } }
      : await keyStore.currentGateway();
    // Tree heads are signed by whichever gateway key is current: a rotation here takes effect at once,
    // one in another replica at this replica's next outbox drain (at most RECEIPT_SWEEP_MS later).
    const signer: JwsSigner = {
      get kid() {
        return current.kid;
      },
      purpose: 'gateway',
      sign: (payload, typ) => current.sign(payload, typ),
    };
    const log = createTransparencyLog({ db: app.db, signer });
    // A log written before log_nodes existed gets its subtree nodes once, here (idempotent).
    if (!opts.documentOnly) await log.syncSubtrees();
    app.decorate('rotateGatewayKey', async () => {
      current = await keyStore.rotate('gateway');
      return current.kid;
    });
    const anchoring = app.ocean ? createLogAnchoring({ db: app.db, log, ocean: app.ocean, logger: app.log }) : null;
    const outbox = opts.documentOnly
      ? null
      : createReceiptOutbox({
          db: app.db,
          keyStore,
          log,
          logger: app.log,
          onSigner: (signer) => {
            current = signer;
          },
        });
    app.decorate('keyStore', keyStore);
    app.decorate('transparencyLog', log);
    app.decorate('logAnchoring', anchoring);
    app.decorate('receiptOutbox', outbox);
    const stop = anchoring?.start(app.config.receipts.anchorIntervalMs);
    // At start (receipts left by a gateway that stopped), then every second; requests drain their own.
    const stopSweep = outbox?.start(RECEIPT_SWEEP_MS);
    app.addHook('onClose', async () => {
      stop?.();
      await stopSweep?.();
    });
  },
  { name: 'receipts', dependencies: ['services', 'jobs'] },
);
