// A wallet that can have many transactions in flight at once: nonces are handed out locally under a
// lock, and re-read from the chain's pending count after any failed broadcast or a dropped transaction.
import { type JsonRpcProvider, type TransactionReceipt, Wallet, getCreateAddress } from 'ethers';
import { toOceanError } from './rpc-errors.js';
import { type WaitOptions, waitForSuccess } from './tx-receipts.js';
import { OceanError } from './ocean-error.js';

export interface TxRequest {
  /** Omit to deploy a contract. */
  to?: string;
  data: string;
  value?: bigint;
  /** Always fixed by the caller: skipping eth_estimateGas saves a round trip per transaction. */
  gasLimit: bigint;
}

export interface SentTx {
  hash: string;
  nonce: number;
  /** Set for deployments: known before the tx is mined. */
  contractAddress?: string;
}

export interface ManagedSignerOptions {
  chainId: number;
  /** How long fee data is reused before asking the node again. */
  feeTtlMs?: number;
  wait?: WaitOptions;
  /** Blocks on top of a transaction's block before wait() counts it (the chain's policy). Default 0. */
  confirmations?: number;
}

interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  at: number;
}

export class ManagedSigner {
  readonly address: string;
  readonly provider: JsonRpcProvider;
  private readonly wallet: Wallet;
  private readonly chainId: number;
  private readonly feeTtlMs: number;
  private readonly waitOptions: WaitOptions;
  private nextNonce: number | undefined;
  private fees: Fees | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(privateKey: string, provider: JsonRpcProvider, options: ManagedSignerOptions) {
    this.wallet = new Wallet(privateKey);
    this.address = this.wallet.address;
    this.provider = provider;
    this.chainId = options.chainId;
    this.feeTtlMs = options.feeTtlMs ?? 5_000;
    this.waitOptions = { confirmations: options.confirmations ?? 0, ...options.wait };
  }

  /** Signs and broadcasts; resolves once the node accepted the tx (not mined). */
  send(request: TxRequest): Promise<SentTx> {
    const run = this.lock.then(() => this.sendLocked(request));
    // The lock only orders broadcasts; one failure must not poison the next caller.
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Waits for a status-1 receipt with the chain's confirmations on top; a dropped tx (a reorg that
   * removed it included) makes the next send re-read the nonce.
   */
  async wait(sent: SentTx, options?: WaitOptions): Promise<TransactionReceipt> {
    try {
      return await waitForSuccess(this.provider, sent.hash, { ...this.waitOptions, ...options });
    } catch (err) {
      if (err instanceof OceanError && (err.code === 'tx_dropped' || err.code === 'tx_timeout')) this.markStale();
      throw err;
    }
  }

  async sendAndWait(request: TxRequest, options?: WaitOptions): Promise<TransactionReceipt> {
    return this.wait(await this.send(request), options);
  }

  /** Forget the local nonce: the next send reads the chain's pending count (fills any gap). */
  markStale(): void {
    this.nextNonce = undefined;
  }

  private async sendLocked(request: TxRequest): Promise<SentTx> {
    let nonce: number;
    let signed: string;
    try {
      if (this.nextNonce === undefined) {
        this.nextNonce = await this.provider.getTransactionCount(this.address, 'pending');
      }
      nonce = this.nextNonce;
      const fees = await this.currentFees();
      signed = await this.wallet.signTransaction({
        type: 2,
        chainId: this.chainId,
        nonce,
        to: request.to ?? null,
        data: request.data,
        value: request.value ?? 0n,
        gasLimit: request.gasLimit,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      });
    } catch (err) {
      this.markStale();
      throw toOceanError(err, 'preparing transaction');
    }
    let hash: string;
    try {
      hash = (await this.provider.send('eth_sendRawTransaction', [signed])) as string;
    } catch (err) {
      // The node may or may not have taken it (e.g. a timeout after acceptance): re-read next time.
      this.markStale();
      throw toOceanError(err, `broadcasting nonce ${nonce}`);
    }
    this.nextNonce = nonce + 1;
    const sent: SentTx = { hash, nonce };
    if (!request.to) sent.contractAddress = getCreateAddress({ from: this.address, nonce });
    return sent;
  }

  private async currentFees(): Promise<Fees> {
    if (this.fees && Date.now() - this.fees.at < this.feeTtlMs) return this.fees;
    const [block, tipHex] = await Promise.all([
      this.provider.getBlock('latest'),
      this.provider.send('eth_maxPriorityFeePerGas', []).catch(() => '0x3b9aca00'),
    ]);
    const baseFee = block?.baseFeePerGas ?? 0n;
    const tip = BigInt(tipHex as string);
    // Twice the base fee survives several full blocks of base-fee growth before a tx would stall.
    this.fees = { maxFeePerGas: baseFee * 2n + tip, maxPriorityFeePerGas: tip, at: Date.now() };
    return this.fees;
  }
}
