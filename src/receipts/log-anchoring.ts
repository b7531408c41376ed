// Anchors the transparency log's head on chain from the gateway: now (operator request) or on an
// interval, only when the log has grown since the last anchor.
import { eq, sql } from 'drizzle-orm';
import { getAddress } from 'ethers';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import type { GatewayOcean } from '../ocean/gateway-ocean.js';
import { createLogAnchor, readAnchorTx } from '../ocean/log-anchor.js';
import type { SignedTreeHead } from './log-types.js';
import { logNfts } from './receipts-schema.js';
import type { TransparencyLog } from './transparency-log.js';

export function createLogAnchoring(deps: { db: Db; log: TransparencyLog; ocean: GatewayOcean; logger: FastifyBaseLogger }) {
  const { client } = deps.ocean;
  const anchor = createLogAnchor({ publisher: client.publisher, addresses: client.addresses });
  let nft: Promise<string> | null = null;
  let running: Promise<SignedTreeHead | null> | null = null;

  /**
   * The deployment's log NFT on this chain: the recorded one while the chain still has it, else (a log
   * from before the record) the NFT of the last anchor, else a new one. Decided under a Postgres lock
   * and recorded, so replicas starting together never deploy one each.
   */
  async function findOrDeployNft(): Promise<string> {
    const chainId = deps.ocean.chainId;
    // Read before the transaction: the embedded database has one connection, so a query outside the
    // transaction while it is open would wait for it forever.
    const last = await deps.log.latestAnchoredHead();
    return deps.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`posthuman:log-nft:${chainId}`}, 0))`);
      const [recorded] = await tx.select().from(logNfts).where(eq(logNfts.chainId, chainId));
      if (recorded && (await client.provider.getCode(recorded.nftAddress)) !== '0x') return getAddress(recorded.nftAddress);
      const previous = last?.anchor?.chain_id === chainId ? await readAnchorTx(client.provider, last.anchor.tx_hash).catch(() => null) : null;
      const nftAddress = await anchor.ensureNft(client.provider, previous?.nftAddress);
      await tx.insert(logNfts).values({ chainId, nftAddress }).onConflictDoUpdate({ target: logNfts.chainId, set: { nftAddress } });
      return nftAddress;
    });
  }

  /** One log NFT per process: concurrent callers (an anchor, the identity document) share one lookup or deployment. */
  function logNft(): Promise<string> {
    nft ??= findOrDeployNft().catch((err) => {
      nft = null;
      throw err;
    });
    return nft;
  }

  async function anchorNow(): Promise<SignedTreeHead | null> {
    const head = await deps.log.treeHead();
    if (head.tree_size === 0) return null;
    const last = await deps.log.latestAnchoredHead();
    // Already anchored, unless a reorg has since removed that anchor from the chain: then anchor it again.
    const current = last && last.tree_size === head.tree_size && last.anchor?.chain_id === deps.ocean.chainId;
    if (current && (await readAnchorTx(client.provider, last.anchor!.tx_hash))) return last;
    const tx = await anchor.anchor(await logNft(), head.tree_size, head.root_hash);
    const anchored = await deps.log.recordAnchor(head.tree_size, tx.txHash, deps.ocean.chainId);
    deps.logger.info({ treeSize: head.tree_size, txHash: tx.txHash }, 'tree head anchored on chain');
    return anchored;
  }

  return {
    /** Anchors the current head unless it already is; concurrent calls share one transaction. */
    anchorNow(): Promise<SignedTreeHead | null> {
      running ??= anchorNow().finally(() => {
        running = null;
      });
      return running;
    },
    nftAddress: () => logNft(),
    start(intervalMs: number) {
      if (intervalMs <= 0) return () => {};
      const timer = setInterval(() => {
        this.anchorNow().catch((err) => deps.logger.warn({ err }, 'anchoring the tree head failed'));
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

export type LogAnchoring = ReturnType<typeof createLogAnchoring>;
