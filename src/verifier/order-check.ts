// Checks a receipt's Ocean order on chain the way ocean-node's provider does before compute runs,
// minus the time window (a receipt is verified long after its order expired): a successful tx with
// an OrderStarted from the datatoken (or an OrderReused leading back to one), by the marketplace's
// consumer, for service 0, paying a provider fee to the marketplace's provider when it is known.
import { getAddress, type LogDescription } from 'ethers';
import { ERC20_ABI, parseLog, sameAddress } from './chain-abi.js';
import { type JsonRpc, type RpcLog, type RpcReceipt, readReceipt } from './json-rpc.js';

export type OrderRejection = 'tx_failed' | 'not_found' | 'wrong_datatoken' | 'wrong_consumer' | 'wrong_service' | 'no_provider_fee' | 'wrong_provider';

export interface CheckedOrder {
  kind: 'start' | 'reuse';
  blockNumber: number;
  consumer: string;
}

export type OrderCheck = { ok: true; order: CheckedOrder } | { ok: false; reason: OrderRejection; detail: string };

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;
const SERVICE_INDEX = 0;

const reject = (reason: OrderRejection, detail: string): OrderCheck => ({ ok: false, reason, detail });

function events(receipt: RpcReceipt, name: string): Array<{ log: RpcLog; event: LogDescription }> {
  const found: Array<{ log: RpcLog; event: LogDescription }> = [];
  for (const log of receipt.logs) {
    const event = parseLog(ERC20_ABI, log);
    if (event?.name === name) found.push({ log, event });
  }
  return found;
}

/**
 * Never throws on a bad order (returns a reason); throws only when the RPC fails. `provider`
 * undefined leaves the fee's payee unchecked (`wrong_provider` is then never the answer).
 */
export async function checkOrderOnChain(
  rpc: JsonRpc,
  input: { txHash: string; datatoken: string; consumer: string; provider?: string },
): Promise<OrderCheck> {
  const datatoken = getAddress(input.datatoken);
  if (!TX_HASH.test(input.txHash)) return reject('not_found', 'not a transaction hash');
  const receipt = await readReceipt(rpc, input.txHash);
  if (!receipt) return reject('not_found', `no mined transaction ${input.txHash}`);
  if (receipt.status !== 1) return reject('tx_failed', `transaction ${input.txHash} reverted`);

  let kind: 'start' | 'reuse' = 'start';
  let startReceipt = receipt;
  const reuses = events(receipt, 'OrderReused');
  const ownReuse = reuses.find((r) => sameAddress(r.log.address, datatoken));
  if (ownReuse) {
    kind = 'reuse';
    const referenced = ownReuse.event.args.orderTxId as string;
    const original = await readReceipt(rpc, referenced);
    if (original?.status !== 1) return reject('not_found', `reused order ${referenced} is not a successful transaction`);
    startReceipt = original;
  }

  const starts = events(startReceipt, 'OrderStarted');
  const own = starts.filter((s) => sameAddress(s.log.address, datatoken));
  if (own.length === 0) {
    const other = starts[0] ?? (kind === 'start' ? reuses[0] : undefined);
    if (other) return reject('wrong_datatoken', `order is for datatoken ${other.log.address}, not ${datatoken}`);
    return reject('not_found', kind === 'reuse' ? 'the reused transaction holds no OrderStarted' : 'transaction holds no Ocean order');
  }
  // As ocean-node: the marketplace's wallet may be the order's consumer or its payer.
  const isOurs = (e: LogDescription) => sameAddress(e.args.consumer, input.consumer) || sameAddress(e.args.payer, input.consumer);
  const byConsumer = own.filter((s) => isOurs(s.event));
  if (byConsumer.length === 0) return reject('wrong_consumer', `order consumer ${own[0].event.args.consumer} is not ${input.consumer}`);
  const start = byConsumer.find((s) => Number(s.event.args.serviceIndex) === SERVICE_INDEX);
  if (!start) return reject('wrong_service', `order is for service ${byConsumer[0].event.args.serviceIndex}, not ${SERVICE_INDEX}`);

  // The fee must be in the transaction being checked (a reuse pays a fresh one).
  const fees = events(receipt, 'ProviderFee').filter((f) => sameAddress(f.log.address, datatoken));
  if (fees.length === 0) return reject('no_provider_fee', 'no ProviderFee event from this datatoken');
  const provider = input.provider;
  if (provider !== undefined && !fees.some((f) => sameAddress(f.event.args.providerFeeAddress, provider))) {
    return reject('wrong_provider', `provider fee paid to ${fees[0].event.args.providerFeeAddress}, not ${provider}`);
  }
  return { ok: true, order: { kind, blockNumber: receipt.blockNumber, consumer: getAddress(start.event.args.consumer) } };
}
