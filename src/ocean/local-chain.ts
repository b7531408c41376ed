// An in-process EVM chain (Hardhat's EDR) served over HTTP JSON-RPC, for dev, tests and benchmarks.
// State lives in memory only: every start is a fresh chain (see embedded-ocean.ts for what follows).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { createHardhatNetworkProvider } from 'hardhat/internal/hardhat-network/provider/provider.js';
import { JsonRpcHandler } from 'hardhat/internal/hardhat-network/jsonrpc/handler.js';
import { defaultHardhatNetworkParams } from 'hardhat/internal/core/config/default-config.js';
import { OceanError } from './ocean-error.js';

/** Hardhat's well-known dev mnemonic: its keys are public, never use them outside a local chain. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
/** The chain id ocean.js's `development` network expects. */
export const LOCAL_CHAIN_ID = 8996;

export interface LocalChainOptions {
  host?: string;
  /** 0 picks a free port. Default 8545. */
  port?: number;
  chainId?: number;
  /** Mine a block every N ms instead of one per transaction (automine). */
  intervalMiningMs?: number;
  /** How many funded dev accounts (10,000 ETH each). Default 5. */
  accounts?: number;
}

export interface DevAccount {
  address: string;
  privateKey: string;
}

export interface LocalChain {
  rpcUrl: string;
  host: string;
  port: number;
  chainId: number;
  accounts: DevAccount[];
  /** Raw JSON-RPC into the chain without HTTP (e.g. evm_increaseTime in tests). */
  request(method: string, params?: unknown[]): Promise<unknown>;
  /** Switches to a block every `ms` milliseconds, or back to automine with 0. */
  setIntervalMining(ms: number): Promise<void>;
  /** Stops answering JSON-RPC while keeping the chain's state (an RPC outage, for fault tests). */
  pauseRpc(): Promise<void>;
  /** Answers JSON-RPC again on the same port. */
  resumeRpc(): Promise<void>;
  stop(): Promise<void>;
}

function devAccounts(count: number): DevAccount[] {
  // One seed derivation, then cheap child derivations.
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), "m/44'/60'/0'/0");
  return Array.from({ length: count }, (_, i) => {
    const w = root.deriveChild(i);
    return { address: w.address, privateKey: w.privateKey };
  });
}

export async function startLocalChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  const host = options.host ?? '127.0.0.1';
  const chainId = options.chainId ?? LOCAL_CHAIN_ID;
  const accounts = devAccounts(options.accounts ?? 5);
  const interval = options.intervalMiningMs ?? 0;

  const provider = await createHardhatNetworkProvider(
    {
      hardfork: 'cancun',
      chainId,
      networkId: chainId,
      blockGasLimit: 60_000_000,
      minGasPrice: 0n,
      automine: interval <= 0,
      intervalMining: Math.max(interval, 0),
      mempoolOrder: 'priority',
      chains: defaultHardhatNetworkParams.chains,
      genesisAccounts: accounts.map((a) => ({ privateKey: a.privateKey, balance: 10n ** 22n })),
      allowUnlimitedContractSize: false,
      // A reverted tx is mined with status 0 and its hash returned, as on a real node.
      throwOnTransactionFailures: false,
      throwOnCallFailures: true,
      // Without this, bursts of automined blocks push chain time ahead of the wall clock.
      allowBlocksWithSameTimestamp: true,
      enableTransientStorage: false,
      enableRip7212: false,
    },
    { enabled: false },
  );

  const handler = new JsonRpcHandler(provider);
  const server: Server = createServer((req, res) => void handler.handleHttp(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8545, host, () => resolve());
    });
  } catch (err) {
    throw new OceanError('chain_start_failed', `cannot listen on ${host}:${options.port ?? 8545}`, { cause: err });
  }
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  return {
    rpcUrl: `http://${host}:${port}`,
    host,
    port,
    chainId,
    accounts,
    request: (method, params = []) => provider.request({ method, params }),
    async setIntervalMining(ms) {
      await provider.request({ method: 'evm_setAutomine', params: [ms <= 0] });
      await provider.request({ method: 'evm_setIntervalMining', params: [Math.max(ms, 0)] });
    },
    pauseRpc() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    resumeRpc() {
      return new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        // An interval-mining timer would otherwise keep mining (and the process alive).
        void provider.request({ method: 'evm_setIntervalMining', params: [0] }).catch(() => {});
        server.close(() => resolve());
        // Keep-alive clients would otherwise hold the server open.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
