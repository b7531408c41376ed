// Wires receipts on the gateway: the key store (JWKS), the transparency log and its on-chain anchoring.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createKeyStore, type KeyStore } from '../receipts/key-store.js';
import { createLogAnchoring, type LogAnchoring } from '../receipts/log-anchoring.js';
import { createTransparencyLog, type TransparencyLog } from '../receipts/transparency-log.js';

declare module 'fastify' {
  interface FastifyInstance {
    keyStore: KeyStore;
    transparencyLog: TransparencyLog;
    /** Null with CHAIN=off: heads are signed but not anchored. */
    logAnchoring: LogAnchoring | null;
  }
}

export default fp(
  async function receipts(app: FastifyInstance, opts: { documentOnly?: boolean }) {
    const keyStore = createKeyStore({ db: app.db, dataDir: app.config.dataDir });
    // Loaded before any request: signing then never queries the database inside a transaction.
    // (The OpenAPI writer builds the app without a database, and signs nothing.)
    const signer = opts.documentOnly
      ? { kid: 'none', purpose: 'gateway' as const, sign: async () => { throw new Error('document-only app'); } }
      : await keyStore.ensureActive('gateway');
    const log = createTransparencyLog({ db: app.db, signer });
    const anchoring = app.ocean ? createLogAnchoring({ log, ocean: app.ocean, logger: app.log }) : null;
    app.decorate('keyStore', keyStore);
    app.decorate('transparencyLog', log);
    app.decorate('logAnchoring', anchoring);
    const stop = anchoring?.start(app.config.receipts.anchorIntervalMs);
    app.addHook('onClose', async () => stop?.());
  },
  { name: 'receipts', dependencies: ['services', 'jobs'] },
);
