// Anchors the transparency log's head on chain from the gateway: now (operator request) or on an
// interval, only when the log has grown since the last anchor.
import type { FastifyBaseLogger } from 'fastify';
import type { GatewayOcean } from '../ocean/gateway-ocean.js';
import { createLogAnchor, readAnchorTx } from '../ocean/log-anchor.js';
import type { SignedTreeHead } from './log-types.js';
import type { TransparencyLog } from './transparency-log.js';

export function createLogAnchoring(deps: { log: TransparencyLog; ocean: GatewayOcean; logger: FastifyBaseLogger }) {
  const { client } = deps.ocean;
  const anchor = createLogAnchor({ publisher: client.publisher, addresses: client.addresses });
  let nft: Promise<string> | null = null;
  let running: Promise<SignedTreeHead | null> | null = null;

  async function findOrDeployNft(): Promise<string> {
    // Reuse the NFT of the last anchor on this chain, if that chain still has it.
    const last = await deps.log.latestAnchoredHead();
    const previous = last?.anchor?.chain_id === deps.ocean.chainId ? await readAnchorTx(client.provider, last.anchor.tx_hash).catch(() => null) : null;
    return anchor.ensureNft(client.provider, previous?.nftAddress);
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
