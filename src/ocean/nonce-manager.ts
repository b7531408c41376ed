// A wallet that can have many transactions in flight at once: nonces are handed out locally under a
// lock, and re-read from the chain's pending count after any failed broadcast or a dropped transaction.
// Each transaction's gas limit comes from the node's estimate (tx-fees.ts: a margin, the call's fixed
// limit as fallback and ceiling); fees are EIP-1559 with the chain's minimum priority fee. A sent
// transaction not mined within `replaceAfterMs` (or dropped by the node) is sent again with the same
// nonce and fees bumped as nodes require, so one stuck nonce never holds up the later ones for good.
import { randomInt } from 'node:crypto';
import { type JsonRpcProvider, type TransactionReceipt, Wallet, getCreateAddress, keccak256, toQuantity } from 'ethers';
import { toOceanError } from './rpc-errors.js';
import { type ReplacementHooks, type WaitOptions, waitForSuccess } from './tx-receipts.js';
import { OceanError } from './ocean-error.js';
import { type FeeQuote, feeQuote, gasLimitFor, replacementFees } from './tx-fees.js';

export interface TxRequest {
  /** Omit to deploy a contract. */
  to?: string;
  data: string;
  value?: bigint;
  /**
   * The call's measured limit (gas-limits.ts): used when the node cannot estimate, and the ceiling an
   * estimate may not pass by more than GAS_CEILING_FACTOR.
   */
  gasLimit: bigint;
}

export interface SentTx {
  hash: string;
  nonce: number;
  /** The limit it was signed with, and where it came from. */
  gasLimit: bigint;
  gasFrom: 'estimate' | 'fixed';
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
  /** The chain's floor for the priority fee (or the gas price without a base fee). Default 0. */
  minPriorityFeeWei?: bigint;
  /** Ask the node for each transaction's gas (default true); false signs with the fixed limits. */
  estimateGas?: boolean;
  /** A transaction pending this long is sent again, same nonce, fees bumped. Default 30 s. */
  replaceAfterMs?: number;
}

type Fees = FeeQuote & { at: number };

/**
 * A few random wei on top of the fee: two senders on one key (two gateways) would otherwise sign
 * byte-identical calls (a dispense, an order with the same provider fee) under the same nonce, and
 * the node would take the second for the first: both would believe their call ran. Salted, the
 * second is a distinct transaction the node refuses, and its sender moves on to the next nonce.
 */
function withSalt(fees: FeeQuote): FeeQuote {
  const salt = BigInt(randomInt(1, 1_000_000));
  return fees.type === 2
    ? { type: 2, maxFeePerGas: fees.maxFeePerGas + salt, maxPriorityFeePerGas: fees.maxPriorityFeePerGas + salt }
    : { type: 0, gasPrice: fees.gasPrice + salt };
}

/** Broadcasts of one transaction refused for a nonce another sender took, before the caller hears of it. */
const MAX_NONCE_CONFLICTS = 24;

/** Replacements of one nonce at most: each raises the fees by REPLACEMENT_BUMP_PERCENT. */
export const MAX_REPLACEMENTS = 5;

/** One nonce in flight: what was signed, so it can be signed again with higher fees. */
interface Flight {
  nonce: number;
  request: TxRequest;
  gasLimit: bigint;
  fees: FeeQuote;
  hashes: string[];
  lastSentAt: number;
  replacements: number;
  /** Times the call was sent again under a new nonce because another sender's tx took this one. */
  moves: number;
}

export class ManagedSigner {
  readonly address: string;
  readonly provider: JsonRpcProvider;
  private readonly wallet: Wallet;
  private readonly chainId: number;
  private readonly feeTtlMs: number;
  private readonly waitOptions: WaitOptions;
  private readonly minTip: bigint;
  private readonly estimate: boolean;
  private readonly replaceAfterMs: number;
  /** Sent and not yet waited out, by nonce; a nonce re-read from the chain skips these. */
  private readonly flights = new Map<number, Flight>();
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
    this.minTip = options.minPriorityFeeWei ?? 0n;
    this.estimate = options.estimateGas ?? true;
    this.replaceAfterMs = options.replaceAfterMs ?? 30_000;
    // A wait must outlast the replacements it may send.
    this.waitOptions.timeoutMs ??= 60_000 + this.replaceAfterMs * MAX_REPLACEMENTS;
  }

  /** Signs and broadcasts; resolves once the node accepted the tx (not mined). */
  async send(request: TxRequest): Promise<SentTx> {
    // Estimated before taking the lock: one round trip that must not hold up the other senders.
    const gas = await this.gasFor(request);
    return this.sendInTurn(request, gas);
  }

  /** Sends after every broadcast queued before it: the lock only orders broadcasts. */
  private sendInTurn(request: TxRequest, gas: { limit: bigint; from: 'estimate' | 'fixed' }): Promise<SentTx> {
    const run = this.lock.then(() => this.sendLocked(request, gas));
    // One failure must not poison the next caller.
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Waits for a status-1 receipt with the chain's confirmations on top; a dropped tx (a reorg that
   * removed it included) makes the next send re-read the nonce.
   */
  async wait(sent: SentTx, options?: WaitOptions): Promise<TransactionReceipt> {
    const flight = this.flights.get(sent.nonce);
    const ours = flight?.hashes.includes(sent.hash) ? flight : undefined;
    try {
      return await waitForSuccess(this.provider, sent.hash, { ...this.waitOptions, ...options }, ours ? this.replacing(ours) : undefined);
    } catch (err) {
      if (err instanceof OceanError && (err.code === 'tx_dropped' || err.code === 'tx_timeout')) this.markStale();
      throw err;
    } finally {
      if (ours) this.flights.delete(ours.nonce);
    }
  }

  async sendAndWait(request: TxRequest, options?: WaitOptions): Promise<TransactionReceipt> {
    return this.wait(await this.send(request), options);
  }

  /** Forget the local nonce: the next send reads the chain's pending count (fills any gap). */
  markStale(): void {
    this.nextNonce = undefined;
  }

  /**
   * While a flight is pending: once it has waited `replaceAfterMs` since its last send, or no node
   * knows it any more, it is signed again with the same nonce and bumped fees and broadcast; the wait
   * then watches every hash of the nonce. A nonce the chain shows used by none of them is an error.
   */
  private replacing(flight: Flight): ReplacementHooks {
    return {
      hashes: () => flight.hashes,
      stillPending: async (dropped) => {
        if (!dropped && Date.now() - flight.lastSentAt < this.replaceAfterMs) return;
        const used = await this.provider.getTransactionCount(this.address, 'latest');
        if (used > flight.nonce) {
          // Mined since the receipts were read (the next poll finds it), or another sender's tx took the nonce.
          for (const hash of flight.hashes) if (await this.provider.getTransactionReceipt(hash)) return;
          // None of ours was mined under it: another sender on this key (a second gateway) took the
          // nonce. The call never ran, so it is sent again under a fresh nonce, a bounded number of times.
          if (flight.moves >= MAX_NONCE_CONFLICTS) {
            throw new OceanError('tx_dropped', `nonce ${flight.nonce} was used by a transaction other than ours (${flight.hashes.join(', ')})`, { txHash: flight.hashes[0] });
          }
          await this.moveToNewNonce(flight);
          return;
        }
        if (flight.replacements >= MAX_REPLACEMENTS) {
          if (dropped) throw new OceanError('tx_dropped', `transaction ${flight.hashes[0]} (nonce ${flight.nonce}) was dropped again after ${MAX_REPLACEMENTS} replacements`, { txHash: flight.hashes[0] });
          return;
        }
        await this.replace(flight);
      },
    };
  }

  /** Sends a flight's call again under the next free nonce; the flight (and its wait) follows it there. */
  private async moveToNewNonce(flight: Flight): Promise<void> {
    this.markStale();
    const sent = await this.sendInTurn(flight.request, { limit: flight.gasLimit, from: 'fixed' });
    const moved = this.flights.get(sent.nonce);
    if (!moved) return;
    this.flights.delete(flight.nonce);
    Object.assign(flight, { ...moved, moves: flight.moves + 1 });
    this.flights.set(sent.nonce, flight);
  }

  /** Signs the flight's call again under its nonce with bumped fees and broadcasts it. */
  private async replace(flight: Flight): Promise<void> {
    this.fees = undefined;
    const fees = replacementFees(flight.fees, await this.feeQuote());
    const signed = await this.wallet.signTransaction({
      chainId: this.chainId,
      nonce: flight.nonce,
      to: flight.request.to ?? null,
      data: flight.request.data,
      value: flight.request.value ?? 0n,
      gasLimit: flight.gasLimit,
      ...fees,
    });
    flight.replacements++;
    flight.lastSentAt = Date.now();
    let hash: string;
    try {
      hash = (await this.provider.send('eth_sendRawTransaction', [signed])) as string;
    } catch {
      // Underpriced against a tx we do not see, or the nonce just got mined: the wait goes on and
      // tries again after another interval. A dead RPC shows up in the wait's own reads.
      return;
    }
    flight.fees = fees;
    flight.hashes.push(hash);
  }

  /**
   * The node's estimate against the pending state (so a call right behind our own pending one sees
   * it), with the margin; the fixed limit when it cannot estimate (an RPC fault, or a call that only
   * succeeds once an earlier one of ours is mined).
   */
  private async gasFor(request: TxRequest): Promise<{ limit: bigint; from: 'estimate' | 'fixed' }> {
    if (!this.estimate) return { limit: request.gasLimit, from: 'fixed' };
    const call = { from: this.address, ...(request.to ? { to: request.to } : {}), data: request.data, value: toQuantity(request.value ?? 0n) };
    let estimate: bigint;
    try {
      estimate = BigInt((await this.provider.send('eth_estimateGas', [call, 'pending'])) as string);
    } catch {
      return { limit: request.gasLimit, from: 'fixed' };
    }
    return { limit: gasLimitFor(estimate, request.gasLimit, `${request.to ?? 'deployment'} ${request.data.slice(0, 10)}`), from: 'estimate' };
  }

  private async sendLocked(request: TxRequest, gas: { limit: bigint; from: 'estimate' | 'fixed' }): Promise<SentTx> {
    // Another process may send from this wallet too (a second gateway on the same keys): a nonce it
    // took first is a conflict at broadcast, answered by re-reading the chain's pending count and
    // signing again, a bounded number of times, instead of failing the caller's order.
    for (let conflicts = 0; ; conflicts++) {
      const { nonce, signed, fees } = await this.signNext(request, gas.limit);
      // The hash is the signed bytes' own; a node answering another one is not believed.
      const hash = keccak256(signed);
      try {
        const answered = (await this.provider.send('eth_sendRawTransaction', [signed])) as string | null;
        if (answered && answered.toLowerCase() !== hash) throw new OceanError('rpc_unavailable', `node answered hash ${answered} for a transaction whose hash is ${hash}`);
      } catch (err) {
        // The node may or may not have taken it (e.g. a timeout after acceptance): re-read next time.
        this.markStale();
        const failure = toOceanError(err, `broadcasting nonce ${nonce}`);
        if (failure.code !== 'nonce_conflict' || conflicts >= MAX_NONCE_CONFLICTS) throw failure;
        // The other sender's queue goes first (it reuses its cached nonces): a jittered pause, growing.
        const cap = Math.min(250, 10 * 2 ** conflicts);
        await new Promise((resolve) => setTimeout(resolve, cap / 2 + (Math.random() * cap) / 2));
        continue;
      }
      this.nextNonce = nonce + 1;
      this.flights.set(nonce, { nonce, request, gasLimit: gas.limit, fees, hashes: [hash], lastSentAt: Date.now(), replacements: 0, moves: 0 });
      const sent: SentTx = { hash, nonce, gasLimit: gas.limit, gasFrom: gas.from };
      if (!request.to) sent.contractAddress = getCreateAddress({ from: this.address, nonce });
      return sent;
    }
  }

  /** The next nonce (the chain's pending count when not known, skipping our own in flight), signed. */
  private async signNext(request: TxRequest, gasLimit: bigint): Promise<{ nonce: number; signed: string; fees: FeeQuote }> {
    try {
      if (this.nextNonce === undefined) {
        let next = await this.provider.getTransactionCount(this.address, 'pending');
        // A nonce still in flight (dropped by the node, being sent again) is not free.
        while (this.flights.has(next)) next++;
        this.nextNonce = next;
      }
      const nonce = this.nextNonce;
      const fees = withSalt(await this.feeQuote());
      const signed = await this.wallet.signTransaction({
        chainId: this.chainId,
        nonce,
        to: request.to ?? null,
        data: request.data,
        value: request.value ?? 0n,
        gasLimit,
        ...fees,
      });
      return { nonce, signed, fees };
    } catch (err) {
      this.markStale();
      throw toOceanError(err, 'preparing transaction');
    }
  }

  private async feeQuote(): Promise<FeeQuote> {
    const { at: _at, ...fees } = await this.currentFees();
    return fees;
  }

  private async currentFees(): Promise<Fees> {
    if (this.fees && Date.now() - this.fees.at < this.feeTtlMs) return this.fees;
    const [block, tipHex] = await Promise.all([
      this.provider.getBlock('latest'),
      this.provider.send('eth_maxPriorityFeePerGas', []).catch(() => '0x3b9aca00'),
    ]);
    const baseFee = block?.baseFeePerGas;
    // Only a chain without a base fee needs a legacy gas price.
    const gasPrice = baseFee === null || baseFee === undefined ? BigInt((await this.provider.send('eth_gasPrice', [])) as string) : 0n;
    this.fees = { ...feeQuote(baseFee, BigInt(tipHex as string), gasPrice, this.minTip), at: Date.now() };
    return this.fees;
  }
}
