// The chain facts wallet access works with: which tokens buy credit and at what rate, the treasury
// (deposits go to it, payouts come from it), confirmations, and where the deposit watcher starts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress, type JsonRpcProvider, Wallet } from 'ethers';
import type { Config } from '../config/config.js';
import { createRpcProvider } from '../ocean/chain-config.js';
import type { ChainSetup } from '../ocean/chain-setup.js';
import type { TokenRate } from './token-rates.js';

export interface DepositToken extends TokenRate {
  symbol: string;
  address: string;
  /** Paid out in this token too (OCEAN only). */
  payouts: boolean;
}

export interface WalletChain {
  chainId: number;
  rpcUrl: string;
  provider: JsonRpcProvider;
  /** A chain this deployment runs (embedded, or `npm run chain` attached): dev defaults apply. */
  local: boolean;
  treasuryAddress: string;
  /** Null when this process holds no treasury key: deposits are watched, payouts refused. */
  treasuryKey: string | null;
  ocean: DepositToken;
  tokens: DepositToken[];
  confirmations: number;
  /** First block to read when the watcher has no cursor; `head` = from wherever the chain is now. */
  startBlock: number | 'head';
  close(): void;
}

/** The embedded/attached chain's marketplace wallet (its key lives in `<data dir>/ocean-wallets.json`). */
function localTreasuryKey(dataDir: string): string | null {
  const file = join(dataDir, 'ocean-wallets.json');
  if (!existsSync(file)) return null;
  const wallets = JSON.parse(readFileSync(file, 'utf8')) as { marketplace?: { privateKey?: string } };
  return wallets.marketplace?.privateKey ?? null;
}

/**
 * Resolves wallet access for the gateway's chain; null with CHAIN=off, or on an external network
 * without WALLET_TREASURY_KEY (deposits would have nowhere known to go).
 */
export function resolveWalletChain(config: Config, chain: ChainSetup | null): WalletChain | null {
  if (!chain) return null;
  const local = chain.mode !== 'external';
  const treasuryKey = config.wallet.treasuryKey ?? (local ? localTreasuryKey(config.dataDir) : null);
  if (!treasuryKey) return null;
  const { chainId, rpcUrl, addresses } = chain.config;
  const ocean: DepositToken = {
    symbol: 'OCEAN',
    address: getAddress(addresses.Ocean),
    decimals: 18,
    microCreditsPerToken: config.wallet.microCreditsPerOcean,
    payouts: true,
  };
  const stable = config.wallet.stablecoin;
  const tokens = stable
    ? [ocean, { symbol: 'STABLE', address: getAddress(stable.address), decimals: stable.decimals, microCreditsPerToken: stable.microCreditsPerToken, payouts: false }]
    : [ocean];
  const provider = createRpcProvider(rpcUrl, chainId);
  return {
    chainId,
    rpcUrl,
    provider,
    local,
    treasuryAddress: new Wallet(treasuryKey).address,
    treasuryKey,
    ocean,
    tokens,
    // A local chain mines a block per transaction, so more than one confirmation could wait forever.
    confirmations: config.wallet.confirmations ?? (local ? 1 : 12),
    startBlock: config.wallet.startBlock ?? (local ? addresses.startBlock : 'head'),
    close: () => provider.destroy(),
  };
}
