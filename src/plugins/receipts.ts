// Wires receipts on the gateway: the key store (JWKS), the transparency log and its on-chain anchoring.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createKeyStore, type KeyStore } from '../receipts/key-store.js';
import { createLogAnchoring, type LogAnchoring } from '../receipts/log-anchoring.js';
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
  }
}

export default fp(
  async function receipts(app: FastifyInstance, opts: { documentOnly?: boolean }) {
    const keyStore = createKeyStore({ db: app.db, dataDir: app.config.dataDir });
    // Loaded before any request: signing then never queries the database inside a transaction.
    // (The OpenAPI writer builds the app without a database, and signs nothing.)
    let current: JwsSigner = opts.documentOnly
      ? { kid: 'none', purpose: 'gateway' as const, sign: async () => { throw new Error('document-only app'); } }
      : await keyStore.ensureActive('gateway');
    // Tree heads are signed by whichever gateway key is current, so a rotation takes effect at once.
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
    const anchoring = app.ocean ? createLogAnchoring({ log, ocean: app.ocean, logger: app.log }) : null;
    app.decorate('keyStore', keyStore);
    app.decorate('transparencyLog', log);
    app.decorate('logAnchoring', anchoring);
    const stop = anchoring?.start(app.config.receipts.anchorIntervalMs);
    app.addHook('onClose', async () => stop?.());
  },
  { name: 'receipts', dependencies: ['services', 'jobs'] },
);
