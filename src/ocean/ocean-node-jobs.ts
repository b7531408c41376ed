// Wires the Ocean compute node backend into the gateway: the escrow payer on the consumer wallet,
// the signer of the node's consumer messages, the runner and its queue. Null without a chain or
// without an Escrow contract on it: models served by a node are then refused at submission.
import { Wallet } from 'ethers';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Ledger } from '../credits/credit-ledger.js';
import type { Db } from '../db/database.js';
import type { JobEvents } from '../jobs/job-events.js';
import type { ChainSetup } from './chain-setup.js';
import { createEscrowPayer } from './escrow.js';
import type { GatewayOcean } from './gateway-ocean.js';
import { createOceanNodeBackend } from './ocean-node-backend.js';
import { type OceanNodeQueue, startOceanNodeQueue } from './ocean-node-queue.js';
import { OCEAN_NODE_RELAY } from './ocean-node-receipt.js';
import { createWorkerReceipts } from '../receipts/worker-receipts.js';

export async function startOceanNodeJobs(deps: {
  config: Config;
  db: Db;
  ledger: Ledger;
  events: JobEvents;
  log: FastifyBaseLogger;
  redis: Redis | null;
  ocean: GatewayOcean | null;
  chain: ChainSetup | null;
}): Promise<OceanNodeQueue | null> {
  const { ocean, chain, config } = deps;
  const escrowAddress = ocean?.client.addresses.Escrow;
  if (!ocean || !chain || !escrowAddress) return null;
  // The same key as the nonce-managed consumer signer: messages are signed, never sent as transactions.
  const wallet = new Wallet(chain.config.consumerPrivateKey);
  // The gateway relays a node's output under its own worker-purpose key (listed in the JWKS).
  const receipts = config.receipts.enabled ? await createWorkerReceipts({ db: deps.db, dataDir: config.dataDir, workerId: OCEAN_NODE_RELAY.id }) : null;
  const backend = createOceanNodeBackend({
    receipts,
    db: deps.db,
    ledger: deps.ledger,
    events: deps.events,
    log: deps.log.child({ component: 'ocean-node' }),
    payer: createEscrowPayer(ocean.client.consumer, escrowAddress),
    sign: (message) => wallet.signMessage(message),
    chainId: ocean.chainId,
    token: ocean.client.addresses.Ocean,
    fromBlock: ocean.client.addresses.startBlock,
    runnerId: `gateway:${config.worker.id}`,
    feeBps: config.marketplaceFeeBps,
    maxPaymentPerJob: config.oceanNode.maxPaymentWei,
    maxJobDurationSeconds: config.oceanNode.maxJobSeconds,
    nodeTimeoutMs: config.oceanNode.timeoutMs,
    pollMs: config.oceanNode.pollMs,
  });
  const queue = startOceanNodeQueue({ redis: deps.redis, prefix: config.redisPrefix, db: deps.db, log: deps.log, handler: backend.run });
  let reconciling: Promise<void> | null = null;
  const tick = () => {
    reconciling ??= backend
      .reconcileOpen()
      .catch((err) => deps.log.warn({ err }, 'escrow reconcile failed; trying again'))
      .finally(() => {
        reconciling = null;
      });
  };
  const timer = config.oceanNode.reconcileIntervalMs > 0 ? setInterval(tick, config.oceanNode.reconcileIntervalMs) : null;
  timer?.unref();
  return {
    enqueue: queue.enqueue,
    async close() {
      if (timer) clearInterval(timer);
      await reconciling;
      await queue.close();
    },
  };
}
