// Places Ocean orders from the gateway's consumer wallet: gets 1 datatoken (dispenser or fixed-rate
// exchange), attaches a provider fee signed by the compute provider, and calls startOrder (or
// reuseOrder). Transactions are pipelined on the nonce-managed wallet with fixed gas limits, retried
// a bounded number of times, and a hash is returned only once its order event has the chain's
// confirmations; an order a reorg removes before then is placed again.
import { type Log, MaxUint256, type TransactionReceipt, ZeroAddress, getAddress, parseEther } from 'ethers';
import { contractInterface, parseEventLog } from './contract-artifacts.js';
import { GAS } from './gas-limits.js';
import type { ManagedSigner, SentTx } from './nonce-manager.js';
import type { OceanAddresses } from './ocean-addresses.js';
import { OceanError } from './ocean-error.js';
import { type MessageSigner, signProviderFee } from './provider-fee.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry-policy.js';

export interface OrderTarget {
  datatokenAddress: string;
  serviceId: string;
  serviceIndex: number;
}

export interface PlacedOrder {
  txHash: string;
  blockNumber: number;
  /** The block the order was confirmed in: if the chain later has another block there, a reorg dropped it. */
  blockHash?: string;
  /** Block time of the start order (unix seconds); for a reuse, of the order it reuses. */
  orderedAt: number;
  kind: 'start' | 'reuse';
  /**
   * Unix seconds until which the provider fee holds: its tx's block time + the fee's duration. A
   * provider also stops accepting the order at orderedAt + the service timeout, reused or not.
   */
  validUntil: number;
  datatokenAddress: string;
  serviceIndex: number;
  consumer: string;
}

export interface OrderServiceDeps {
  consumer: ManagedSigner;
  /** Signs provider fees; in the embedded setup the worker's own key. */
  providerSigner: MessageSigner;
  addresses: OceanAddresses;
  marketplaceFeeAddress: string;
  /** Provider-fee duration in seconds, counted from the order's block. Default 3600. */
  validForSeconds?: number;
  /** Provider fee in OCEAN wei; default 0 (free provider). */
  providerFeeAmount?: bigint;
  retry?: RetryPolicy;
}

type Route = { type: 'free' } | { type: 'fixed'; exchangeId: string };

const ONE = parseEther('1');

export function createOrderService(deps: OrderServiceDeps) {
  const { consumer, addresses } = deps;
  const validFor = deps.validForSeconds ?? 3600;
  const feeAmount = deps.providerFeeAmount ?? 0n;
  const policy = deps.retry ?? DEFAULT_RETRY;
  const dt = contractInterface('ERC20Template');
  const dispenser = contractInterface('Dispenser');
  const fre = contractInterface('FixedRateExchange');
  const erc20 = contractInterface('OceanToken');
  const routes = new Map<string, Promise<Route>>();
  const approvals = new Map<string, Promise<void>>();

  async function view(to: string, iface: typeof dt, fn: string, args: unknown[]) {
    const raw = await consumer.provider.call({ to, data: iface.encodeFunctionData(fn, args) });
    return iface.decodeFunctionResult(fn, raw);
  }

  /** How this datatoken is obtained; looked up once per datatoken. */
  function routeFor(datatoken: string): Promise<Route> {
    let route = routes.get(datatoken);
    if (!route) {
      const unusable = () => new OceanError('invalid_argument', `${datatoken} has no active dispenser or OCEAN exchange`);
      route = (async (): Promise<Route> => {
        const status = await view(addresses.Dispenser, dispenser, 'status', [datatoken]);
        if (status.active) return { type: 'free' };
        const [exchangeId] = await view(addresses.FixedPrice, fre, 'generateExchangeId', [addresses.Ocean, datatoken]);
        const exchange = await view(addresses.FixedPrice, fre, 'getExchange', [exchangeId]);
        if (exchange.active && getAddress(exchange.datatoken) === datatoken) return { type: 'fixed', exchangeId };
        throw unusable();
      })().catch((err) => {
        // A view that reverts means the address is not a datatoken these contracts know.
        throw (err as { code?: string }).code === 'CALL_EXCEPTION' ? unusable() : err;
      });
      routes.set(datatoken, route);
      // A failed lookup (e.g. RPC down) must not be cached.
      route.catch(() => routes.delete(datatoken));
    }
    return route;
  }

  /** One unlimited OCEAN approval per spender, sent once and shared by concurrent orders. */
  function ensureApproval(spender: string): Promise<void> {
    let pending = approvals.get(spender);
    if (!pending) {
      pending = (async () => {
        const [allowance] = await view(addresses.Ocean, erc20, 'allowance', [consumer.address, spender]);
        if ((allowance as bigint) >= MaxUint256 / 2n) return;
        const data = erc20.encodeFunctionData('approve', [spender, MaxUint256]);
        await consumer.sendAndWait({ to: addresses.Ocean, data, gasLimit: GAS.approve });
      })();
      approvals.set(spender, pending);
      pending.catch(() => approvals.delete(spender));
    }
    return pending;
  }

  async function sendAcquire(datatoken: string, route: Route): Promise<SentTx> {
    if (route.type === 'free') {
      const data = dispenser.encodeFunctionData('dispense', [datatoken, ONE, consumer.address]);
      return consumer.send({ to: addresses.Dispenser, data, gasLimit: GAS.dispense });
    }
    await ensureApproval(addresses.FixedPrice);
    const [quote] = await view(addresses.FixedPrice, fre, 'calcBaseInGivenOutDT', [route.exchangeId, ONE, 0]);
    // 1% slack: the rate could change between quote and buy; the exchange enforces the bound.
    const maxIn = ((quote as bigint) * 101n) / 100n;
    const data = fre.encodeFunctionData('buyDT', [route.exchangeId, ONE, maxIn, ZeroAddress, 0]);
    return consumer.send({ to: addresses.FixedPrice, data, gasLimit: GAS.buyDatatoken });
  }

  function providerFee(target: OrderTarget, datatoken: string) {
    return signProviderFee(deps.providerSigner, {
      datatokenAddress: datatoken,
      serviceId: target.serviceId,
      feeToken: addresses.Ocean,
      amount: feeAmount,
      validForSeconds: validFor,
    });
  }

  function ownEvent(logs: readonly Log[], datatoken: string, name: string) {
    for (const log of logs) {
      if (getAddress(log.address) !== datatoken) continue;
      const parsed = parseEventLog(dt, log);
      if (parsed?.name === name) return parsed;
    }
    return undefined;
  }

  function placed(kind: 'start' | 'reuse', receipt: TransactionReceipt, eventName: string, orderedAt: number | undefined, datatoken: string, target: OrderTarget): PlacedOrder {
    const event = ownEvent(receipt.logs, datatoken, eventName);
    // Status 1 without the event: the address is not an Ocean datatoken. Never report success.
    if (!event) throw new OceanError('order_failed', `${receipt.hash} emitted no ${eventName} from ${datatoken}`, { txHash: receipt.hash });
    const at = Number(event.args.timestamp);
    return {
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      orderedAt: orderedAt ?? at,
      kind,
      validUntil: validFor > 0 ? at + validFor : Number.MAX_SAFE_INTEGER,
      datatokenAddress: datatoken,
      serviceIndex: target.serviceIndex,
      consumer: consumer.address,
    };
  }

  /** Refuses, before any transaction, a datatoken address that holds no contract (a chain reset). */
  async function assertOnChain(datatoken: string) {
    if ((await consumer.provider.getCode(datatoken)) !== '0x') return;
    routes.delete(datatoken);
    throw new OceanError('model_not_on_chain', `datatoken ${datatoken} has no code on this chain: publish the model again`);
  }

  async function placeOrderOnce(target: OrderTarget): Promise<PlacedOrder> {
    const datatoken = getAddress(target.datatokenAddress);
    await assertOnChain(datatoken);
    const route = await routeFor(datatoken);
    if (feeAmount > 0n) await ensureApproval(datatoken);
    const fee = await providerFee(target, datatoken);
    const consumeMarketFee = { consumeMarketFeeAddress: deps.marketplaceFeeAddress, consumeMarketFeeToken: addresses.Ocean, consumeMarketFeeAmount: 0n };
    const start = dt.encodeFunctionData('startOrder', [consumer.address, target.serviceIndex, fee, consumeMarketFee]);
    // Acquire and start back to back: nonce order runs them in order, often in one block.
    const acquire = await sendAcquire(datatoken, route);
    const order = await consumer.send({ to: datatoken, data: start, gasLimit: GAS.startOrder });
    const [acquired, started] = await Promise.allSettled([consumer.wait(acquire), consumer.wait(order)]);
    // A confirmed order stands even if its acquire failed (a spare datatoken paid for it).
    if (started.status === 'rejected') throw acquired.status === 'rejected' ? acquired.reason : started.reason;
    return placed('start', started.value, 'OrderStarted', undefined, datatoken, target);
  }

  async function reuseOrderOnce(orderTxId: string, target: OrderTarget): Promise<PlacedOrder> {
    const datatoken = getAddress(target.datatokenAddress);
    // Check the original first: a reuse of something that is not our order would be paid for nothing.
    const original = await consumer.provider.getTransactionReceipt(orderTxId);
    const started = original?.status === 1 ? ownEvent(original.logs, datatoken, 'OrderStarted') : undefined;
    if (!started) throw new OceanError('invalid_argument', `${orderTxId} is not an order of ${datatoken}`);
    if (getAddress(started.args.consumer) !== consumer.address && getAddress(started.args.payer) !== consumer.address) {
      throw new OceanError('invalid_argument', `${orderTxId} was not placed by ${consumer.address}`);
    }
    const fee = await providerFee(target, datatoken);
    const data = dt.encodeFunctionData('reuseOrder', [orderTxId, fee]);
    const receipt = await consumer.sendAndWait({ to: datatoken, data, gasLimit: GAS.reuseOrder });
    return placed('reuse', receipt, 'OrderReused', Number(started.args.timestamp), datatoken, target);
  }

  return {
    consumerAddress: consumer.address,
    validForSeconds: validFor,
    /** Buys or dispenses 1 datatoken and starts an order; throws OceanError after bounded retries. */
    placeOrder(target: OrderTarget): Promise<PlacedOrder> {
      return withRetry('placeOrder', policy, () => placeOrderOnce(target));
    },
    /**
     * Pays a fresh provider fee on an earlier order of this consumer (no datatoken spent). Useful
     * within the order's service timeout, which still counts from the original order.
     */
    reuseOrder(orderTxId: string, target: OrderTarget): Promise<PlacedOrder> {
      if (!/^0x[0-9a-fA-F]{64}$/.test(orderTxId)) {
        return Promise.reject(new OceanError('invalid_argument', 'orderTxId must be a 32-byte tx hash'));
      }
      return withRetry('reuseOrder', policy, () => reuseOrderOnce(orderTxId, target));
    },
  };
}

export type OrderService = ReturnType<typeof createOrderService>;
