// Checks an order on chain the way ocean-node's provider does before compute runs: a successful tx
// with an OrderStarted from this datatoken (or an OrderReused leading back to one), the consumer,
// the service index, our own provider fee whose providerData names this datatoken and service, the
// validity window, and the caller's use count. A receipt the RPC does not show yet (a lagging node
// behind a load balancer) is asked again within a bound before the order counts as missing; an order
// counts only with the chain's confirmations on top, and one whose block a reorg replaced is told
// apart from one that never was.
import { type JsonRpcProvider, type Log, type LogDescription, type TransactionReceipt, getAddress } from 'ethers';
import { contractInterface, parseEventLog } from './contract-artifacts.js';
import { decodeProviderData } from './provider-fee.js';
import { toOceanError } from './rpc-errors.js';
import { confirmedReceipt } from './tx-receipts.js';

export interface ValidateOrderInput {
  txHash: string;
  datatokenAddress: string;
  /** The gateway's wallet: accepted as the order's consumer or its payer, as ocean-node does. */
  expectedConsumer: string;
  serviceIndex: number;
  /** The worker's own provider-fee address. */
  providerAddress: string;
  /** Seconds the order stays usable after its start block (the service timeout); 0 = no limit. */
  validitySeconds: number;
  /**
   * Jobs already run on this order, and the policy's maximum (both or neither). A function is asked
   * once the order is found, with its tx and the start order it pays from (the same for a start).
   */
  usedCount?: number | ((order: { txHash: string; orderTxHash: string }) => Promise<number>);
  maxUses?: number;
  /**
   * The service id the order must name in its provider fee's providerData (`{ dt, id }`, as ocean-node
   * checks); the datatoken there must always be this one.
   */
  serviceId?: string;
  /** How long a receipt the RPC does not show yet is asked for again before `not_found`. Default 0. */
  receiptWaitMs?: number;
  /** Blocks on top of the order's block before it counts (waited for up to receiptWaitMs). Default 0. */
  confirmations?: number;
  /** The block hash the order was confirmed in when the gateway took it: a missing order whose block was replaced is `reorged`. */
  minedInBlockHash?: string;
  /** Unix seconds (or a clock read once the receipt is in); default: the later of the wall clock and the chain's latest block. */
  nowSeconds?: number | (() => number);
}

export type OrderRejection =
  | 'tx_failed'
  | 'not_found'
  | 'wrong_datatoken'
  | 'wrong_consumer'
  | 'wrong_service'
  | 'no_provider_fee'
  | 'wrong_provider'
  | 'wrong_provider_data'
  | 'expired'
  | 'overused'
  /** The order was confirmed, then a reorg replaced its block and it is on chain no more. */
  | 'reorged'
  /** Mined, but not yet the chain's confirmations deep (worth asking again). */
  | 'unconfirmed';

export interface ValidatedOrder {
  txHash: string;
  kind: 'start' | 'reuse';
  /** The startOrder transaction (differs from txHash for a reuse). */
  orderTxHash: string;
  datatokenAddress: string;
  consumer: string;
  payer: string;
  serviceIndex: number;
  blockNumber: number;
  /** Block time of the start order: the service timeout counts from here, even for a reuse. */
  orderedAt: number;
  /** Block time of the reuse, when txHash is one. */
  reusedAt?: number;
  expiresAt: number;
  providerFee: { address: string; token: string; amount: bigint; validUntil: bigint; serviceId?: string };
}

export type OrderValidation = { ok: true; order: ValidatedOrder } | { ok: false; reason: OrderRejection; detail: string };

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;
/** Fee validUntil values above this are absolute timestamps (older providers), below it durations. */
const ABSOLUTE_TIME_THRESHOLD = 1_000_000_000n;

const reject = (reason: OrderRejection, detail: string): OrderValidation => ({ ok: false, reason, detail });

function events(receipt: TransactionReceipt, name: string): Array<{ log: Log; event: LogDescription }> {
  const iface = contractInterface('ERC20Template');
  const found: Array<{ log: Log; event: LogDescription }> = [];
  for (const log of receipt.logs) {
    try {
      const event = parseEventLog(iface, log);
      if (event?.name === name) found.push({ log, event });
    } catch {
      // Another contract's event with the same topic but another layout.
    }
  }
  return found;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The receipt, asked again (250 ms doubling to 2 s) while the RPC shows none, for up to `waitMs`. */
async function receiptWithin(provider: JsonRpcProvider, txHash: string, waitMs: number): Promise<TransactionReceipt | null> {
  const deadline = Date.now() + waitMs;
  for (let pause = 250; ; pause = Math.min(pause * 2, 2_000)) {
    const receipt = await provider.getTransactionReceipt(txHash);
    if (receipt || Date.now() + pause > deadline) return receipt;
    await delay(pause);
  }
}

/** The receipt once `confirmations` deep (re-read each time, so a reorg meanwhile is seen), or null at the deadline. */
async function deepWithin(provider: JsonRpcProvider, receipt: TransactionReceipt, confirmations: number, waitMs: number): Promise<TransactionReceipt | null> {
  const deadline = Date.now() + waitMs;
  let current = receipt;
  for (let pause = 250; ; pause = Math.min(pause * 2, 2_000)) {
    const deep = await confirmedReceipt(provider, current, confirmations);
    if (deep) return deep;
    if (Date.now() + pause > deadline) return null;
    await delay(pause);
    // Moved to another block by a reorg: count from there.
    current = (await provider.getTransactionReceipt(current.hash)) ?? current;
  }
}

/** True when the chain no longer has the block `hash` where it was (removed, or another block at its height). */
async function blockReplaced(provider: JsonRpcProvider, hash: string): Promise<boolean> {
  const block = await provider.getBlock(hash);
  if (!block) return true;
  const canonical = await provider.getBlock(block.number);
  return canonical?.hash !== hash;
}

/** Never throws on a bad order (returns a reason); throws OceanError only when the RPC fails. */
export async function validateOrder(provider: JsonRpcProvider, input: ValidateOrderInput): Promise<OrderValidation> {
  try {
    return await check(provider, input);
  } catch (err) {
    throw toOceanError(err, `validating order ${input.txHash}`);
  }
}

async function check(provider: JsonRpcProvider, input: ValidateOrderInput): Promise<OrderValidation> {
  const datatoken = getAddress(input.datatokenAddress);
  if (!TX_HASH.test(input.txHash)) return reject('not_found', 'not a transaction hash');
  const waitMs = input.receiptWaitMs ?? 0;
  const found = await receiptWithin(provider, input.txHash, waitMs);
  if (!found) {
    if (input.minedInBlockHash && (await blockReplaced(provider, input.minedInBlockHash))) {
      return reject('reorged', `order ${input.txHash}, confirmed in block ${input.minedInBlockHash}, is no longer on chain: a reorg replaced that block`);
    }
    return reject('not_found', `no mined transaction ${input.txHash}${waitMs > 0 ? ` after ${waitMs} ms` : ''}`);
  }
  if (found.status !== 1) return reject('tx_failed', `transaction ${input.txHash} reverted`);
  const confirmations = input.confirmations ?? 0;
  const receipt = confirmations > 0 ? await deepWithin(provider, found, confirmations, waitMs) : found;
  if (!receipt) return reject('unconfirmed', `order ${input.txHash} (block ${found.blockNumber}) does not have ${confirmations} confirmation(s) yet`);

  let kind: 'start' | 'reuse' = 'start';
  let startReceipt = receipt;
  let reusedAt: number | undefined;
  const reuses = events(receipt, 'OrderReused');
  const ownReuse = reuses.find((r) => same(r.log.address, datatoken));
  if (ownReuse) {
    kind = 'reuse';
    reusedAt = Number(ownReuse.event.args.timestamp);
    const referenced = ownReuse.event.args.orderTxId as string;
    const original = await receiptWithin(provider, referenced, waitMs);
    if (original?.status !== 1) {
      return reject('not_found', `reused order ${referenced} is not a successful transaction`);
    }
    startReceipt = original;
  }

  const starts = events(startReceipt, 'OrderStarted');
  const own = starts.filter((s) => same(s.log.address, datatoken));
  if (own.length === 0) {
    const other = starts[0] ?? (kind === 'start' ? reuses[0] : undefined);
    if (other) return reject('wrong_datatoken', `order is for datatoken ${other.log.address}, not ${datatoken}`);
    return reject('not_found', kind === 'reuse' ? 'the reused transaction holds no OrderStarted' : 'transaction holds no Ocean order');
  }
  const isOurs = (e: LogDescription) => same(e.args.consumer, input.expectedConsumer) || same(e.args.payer, input.expectedConsumer);
  const byConsumer = own.filter((s) => isOurs(s.event));
  if (byConsumer.length === 0) {
    return reject('wrong_consumer', `order consumer ${own[0].event.args.consumer} is not ${input.expectedConsumer}`);
  }
  const start = byConsumer.find((s) => Number(s.event.args.serviceIndex) === input.serviceIndex);
  if (!start) {
    return reject('wrong_service', `order is for service ${byConsumer[0].event.args.serviceIndex}, not ${input.serviceIndex}`);
  }

  // The fee must be in the transaction being validated (a reuse pays a fresh one).
  const fees = events(receipt, 'ProviderFee').filter((f) => same(f.log.address, datatoken));
  if (fees.length === 0) return reject('no_provider_fee', 'no ProviderFee event from this datatoken');
  const ours = fees.filter((f) => same(f.event.args.providerFeeAddress, input.providerAddress));
  if (ours.length === 0) return reject('wrong_provider', `provider fee paid to ${fees[0].event.args.providerFeeAddress}, not us`);
  // As ocean-node's verifyProviderFees: the fee's providerData names this datatoken and service.
  const namesService = (data: { dt: string; id: string } | undefined) =>
    data !== undefined && same(data.dt, datatoken) && (input.serviceId === undefined || data.id === input.serviceId);
  const fee = ours.find((f) => namesService(decodeProviderData(f.event.args.providerData)));
  if (!fee) {
    const data = decodeProviderData(ours[0].event.args.providerData);
    const named = data ? `datatoken ${data.dt}, service ${data.id}` : 'nothing readable';
    return reject('wrong_provider_data', `provider fee names ${named}, not datatoken ${datatoken}${input.serviceId ? `, service ${input.serviceId}` : ''}`);
  }

  // As ocean-node: the service timeout counts from the datatoken payment (the start), so reusing
  // cannot stretch one payment forever; the provider fee's own duration counts from its own tx.
  const orderedAt = Number(start.event.args.timestamp);
  const feeFrom = reusedAt ?? orderedAt;
  const feeValidUntil = fee.event.args.validUntil as bigint;
  let expiresAt = input.validitySeconds > 0 ? orderedAt + input.validitySeconds : Number.MAX_SAFE_INTEGER;
  if (feeValidUntil > 0n) {
    const feeEnd = feeValidUntil >= ABSOLUTE_TIME_THRESHOLD ? Number(feeValidUntil) : feeFrom + Number(feeValidUntil);
    expiresAt = Math.min(expiresAt, feeEnd);
  }
  const now = typeof input.nowSeconds === 'function' ? input.nowSeconds() : (input.nowSeconds ?? (await chainAwareNow(provider)));
  if (now > expiresAt) return reject('expired', `order expired at ${expiresAt}, now ${now}`);

  if (input.maxUses !== undefined) {
    const used = typeof input.usedCount === 'function' ? await input.usedCount({ txHash: receipt.hash, orderTxHash: startReceipt.hash }) : (input.usedCount ?? 0);
    if (used >= input.maxUses) return reject('overused', `order already used ${used} time(s), policy allows ${input.maxUses}`);
  }

  return {
    ok: true,
    order: {
      txHash: receipt.hash,
      kind,
      orderTxHash: startReceipt.hash,
      datatokenAddress: datatoken,
      consumer: getAddress(start.event.args.consumer),
      payer: getAddress(start.event.args.payer),
      serviceIndex: input.serviceIndex,
      blockNumber: receipt.blockNumber,
      orderedAt,
      ...(reusedAt !== undefined ? { reusedAt } : {}),
      expiresAt,
      providerFee: {
        address: getAddress(fee.event.args.providerFeeAddress),
        token: getAddress(fee.event.args.providerFeeToken),
        amount: fee.event.args.providerFeeAmount as bigint,
        validUntil: feeValidUntil,
        serviceId: decodeProviderData(fee.event.args.providerData)?.id,
      },
    },
  };
}

/** A local chain's clock can run ahead of the wall clock (evm_increaseTime); take the later one. */
async function chainAwareNow(provider: JsonRpcProvider): Promise<number> {
  const block = await provider.getBlock('latest');
  return Math.max(Math.floor(Date.now() / 1000), block?.timestamp ?? 0);
}
