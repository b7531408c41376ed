// How the gateway's transactions behave on one chain: the confirmations before an order or a log
// anchor counts, the smallest priority fee the chain's nodes accept, and how long a sent transaction
// may wait in the mempool before it is replaced with higher fees. Each has a per-chain default (a
// local chain needs none of it) and a CHAIN_* variable that wins over it.
import { parseUnits } from 'ethers';
import { isLocalChainId } from './service-endpoint.js';

export interface ChainTxPolicy {
  /** Blocks mined on top of a transaction's block before it counts (0: counts once mined). */
  confirmations: number;
  /** Floor of the priority fee (EIP-1559), or of the gas price on a chain without a base fee. */
  minPriorityFeeWei: bigint;
  /** A transaction still pending after this long is sent again, same nonce, fees bumped. */
  replaceAfterMs: number;
}

/** The operator's CHAIN_* values; unset ones take the chain's default. */
export interface ChainTxOverrides {
  confirmations?: number;
  minPriorityFeeGwei?: string;
  replaceAfterMs?: number;
}

interface KnownChain {
  confirmations: number;
  minPriorityFeeGwei: string;
  replaceAfterMs: number;
}

// Confirmations: a few blocks on chains whose head can be replaced (Ethereum's proposer reorgs are one
// or two blocks deep; Polygon PoS has had deeper ones); Sapphire's blocks are final once its consensus
// layer commits them, one block covers a lagging RPC. Polygon's nodes refuse tips under 25-30 gwei.
const KNOWN: Record<number, KnownChain> = {
  1: { confirmations: 3, minPriorityFeeGwei: '0', replaceAfterMs: 60_000 },
  10: { confirmations: 3, minPriorityFeeGwei: '0', replaceAfterMs: 30_000 },
  137: { confirmations: 32, minPriorityFeeGwei: '30', replaceAfterMs: 30_000 },
  8453: { confirmations: 3, minPriorityFeeGwei: '0', replaceAfterMs: 30_000 },
  11155111: { confirmations: 2, minPriorityFeeGwei: '0', replaceAfterMs: 60_000 },
  23294: { confirmations: 1, minPriorityFeeGwei: '0', replaceAfterMs: 30_000 },
  23295: { confirmations: 1, minPriorityFeeGwei: '0', replaceAfterMs: 30_000 },
};
const LOCAL: KnownChain = { confirmations: 0, minPriorityFeeGwei: '0', replaceAfterMs: 15_000 };
const OTHER: KnownChain = { confirmations: 3, minPriorityFeeGwei: '0', replaceAfterMs: 60_000 };

export function chainTxPolicy(chainId: number, overrides: ChainTxOverrides = {}): ChainTxPolicy {
  const known = isLocalChainId(chainId) ? LOCAL : (KNOWN[chainId] ?? OTHER);
  return {
    confirmations: overrides.confirmations ?? known.confirmations,
    minPriorityFeeWei: parseUnits(overrides.minPriorityFeeGwei ?? known.minPriorityFeeGwei, 'gwei'),
    replaceAfterMs: overrides.replaceAfterMs ?? known.replaceAfterMs,
  };
}
