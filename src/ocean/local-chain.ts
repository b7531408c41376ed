// An in-process EVM chain (Hardhat's EDR) served over HTTP JSON-RPC, for dev, tests and benchmarks.
// With a journal file, its state survives restarts (chain-journal.ts); without one it lives in memory.
// The HTTP side answers only what a public node would: reads and signed raw transactions.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { createHardhatNetworkProvider } from 'hardhat/internal/hardhat-network/provider/provider.js';
import { MethodNotFoundError } from 'hardhat/internal/core/providers/errors.js';
import { JsonRpcHandler } from 'hardhat/internal/hardhat-network/jsonrpc/handler.js';
import { defaultHardhatNetworkParams } from 'hardhat/internal/core/config/default-config.js';
import { ChainJournal } from './chain-journal.js';
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
  /** Journal making the chain durable: replayed at start, appended to as blocks are mined. */
  journalFile?: string;
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
  /** Blocks and transactions replayed from the journal at start (0 for a fresh chain). */
  replayed: { blocks: number; transactions: number };
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

/**
 * JSON-RPC methods the HTTP endpoint serves: reads and signed raw transactions. Test and admin
 * methods (hardhat_*, evm_*, debug_*, personal_*) and signing with the node's unlocked dev accounts
 * would let anyone reaching the port act as any wallet or move chain time; they stay in-process.
 */
const REFUSED_ETH_METHODS = new Set(['eth_sendTransaction', 'eth_sign', 'eth_signTransaction', 'eth_signTypedData', 'eth_signTypedData_v3', 'eth_signTypedData_v4', 'eth_accounts', 'eth_coinbase']);
export function isPublicRpcMethod(method: string): boolean {
  if (method.startsWith('eth_')) return !REFUSED_ETH_METHODS.has(method);
  return method === 'net_version' || method === 'net_listening' || method === 'net_peerCount' || method === 'web3_clientVersion' || method === 'web3_sha3';
}

/** Methods after which new blocks may exist, so the journal catches up before answering. */
const JOURNALED_METHODS = new Set(['eth_sendRawTransaction', 'eth_sendTransaction', 'evm_mine', 'hardhat_mine', 'evm_setAutomine', 'evm_revert']);


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
  const automine = interval <= 0;
  const journal = options.journalFile ? ChainJournal.open(options.journalFile, chainId, accounts.length) : undefined;

  const provider = await createHardhatNetworkProvider(
    {
      hardfork: 'cancun',
      chainId,
      networkId: chainId,
      blockGasLimit: 60_000_000,
      minGasPrice: 0n,
      // Replay mines by hand first; the requested mode is set after it.
      automine: true,
      intervalMining: 0,
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
      // A journaled chain starts from the same genesis time at every replay.
      ...(journal ? { initialDate: new Date(journal.header.genesis * 1000) } : {}),
    },
    { enabled: false },
  );
  const direct = (method: string, params: unknown[] = []) => provider.request({ method, params });

  let replayed = { blocks: 0, transactions: 0 };
  if (journal?.existed) {
    replayed = await journal.replay(direct);
    // Bring the chain's clock back to the wall clock for the blocks that follow.
    const head = (await direct('eth_getBlockByNumber', ['latest', false])) as { timestamp: string };
    const now = Math.floor(Date.now() / 1000);
    if (Number(head.timestamp) < now) await direct('evm_setNextBlockTimestamp', [`0x${now.toString(16)}`]);
  }
  if (!automine) {
    await direct('evm_setAutomine', [false]);
    await direct('evm_setIntervalMining', [interval]);
  }

  /** Every request, in-process or over HTTP, goes through here so the journal sees what changes state. */
  const request = async (method: string, params: unknown[] = []): Promise<unknown> => {
    const result = await direct(method, params);
    if (!journal) return result;
    if (method === 'eth_sendRawTransaction') journal.recordTransaction(params[0] as string);
    else if (method === 'hardhat_dropTransaction' && result === true) journal.recordDrop(params[0] as string);
    else if (method === 'evm_revert' && result === true) journal.recordRevert(Number(await direct('eth_blockNumber')));
    if (JOURNALED_METHODS.has(method)) await journal.sync(direct);
    if (method === 'evm_setIntervalMining') watchBlocks(Number(params[0]));
    return result;
  };
  let blockTimer: NodeJS.Timeout | undefined;
  const watchBlocks = (ms: number) => {
    clearInterval(blockTimer);
    blockTimer = journal && ms > 0 ? setInterval(() => void journal.sync(direct), ms) : undefined;
    blockTimer?.unref();
  };
  watchBlocks(interval);

  const publicProvider = {
    request: ({ method, params }: { method: string; params?: unknown[] }) => {
      if (!isPublicRpcMethod(method)) return Promise.reject(new MethodNotFoundError(`the method ${method} is not available on this endpoint`));
      return request(method, params);
    },
    addListener: provider.addListener.bind(provider),
    removeListener: provider.removeListener.bind(provider),
  };
  const handler = new JsonRpcHandler(publicProvider as unknown as typeof provider);
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
    replayed,
    request,
    async setIntervalMining(ms) {
      await request('evm_setAutomine', [ms <= 0]);
      await request('evm_setIntervalMining', [Math.max(ms, 0)]);
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
        clearInterval(blockTimer);
        void provider.request({ method: 'evm_setIntervalMining', params: [0] }).catch(() => {});
        const synced = journal ? journal.recordHead(direct).catch(() => {}) : Promise.resolve();
        server.close(() => void synced.then(() => resolve()));
        // Keep-alive clients would otherwise hold the server open.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
