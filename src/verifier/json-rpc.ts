// The verifier's view of a chain: JSON-RPC requests over `fetch` (or any function that answers
// them, such as an ethers provider's `send`), and the few reads the checks make, typed.
import { getAddress } from 'ethers';

/** Answers one JSON-RPC request with its `result`; throws on an error answer or a failed call. */
export type JsonRpc = (method: string, params: unknown[]) => Promise<unknown>;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A JSON-RPC client over HTTP(S) with `fetch`: what a browser has, and Node 20 too. */
export function jsonRpcOverHttp(url: string, options: { timeoutMs?: number } = {}): JsonRpc {
  let nextId = 1;
  return async (method, params) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      throw new Error(`${method} at ${url} failed: ${messageOf(err)}${cause ? ` (${messageOf(cause)})` : ''}`);
    }
    const text = await res.text();
    let body: { result?: unknown; error?: { message?: string; code?: number } };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${method} at ${url} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    if (body.error) throw new Error(`${method} at ${url}: ${body.error.message ?? `error ${body.error.code}`}`);
    if (!res.ok) throw new Error(`${method} at ${url} answered HTTP ${res.status}`);
    return body.result;
  };
}

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
}

/** A mined transaction's receipt, as the node reports it (addresses checksummed). */
export interface RpcReceipt {
  transactionHash: string;
  status: number;
  blockNumber: number;
  from: string;
  /** Null for a contract creation. */
  to: string | null;
  logs: RpcLog[];
}

const HEX = /^0x[0-9a-fA-F]*$/;

function quantity(value: unknown, what: string): number {
  if (typeof value !== 'string' || !HEX.test(value)) throw new Error(`the RPC sent a malformed ${what}: ${String(value).slice(0, 80)}`);
  return Number(BigInt(value));
}

export async function readChainId(rpc: JsonRpc): Promise<number> {
  return quantity(await rpc('eth_chainId', []), 'chain id');
}

/** `eth_call` at the latest block: the raw return data (`0x` when `to` has no code). */
export async function ethCall(rpc: JsonRpc, to: string, data: string): Promise<string> {
  const raw = await rpc('eth_call', [{ to, data }, 'latest']);
  if (typeof raw !== 'string' || !HEX.test(raw)) throw new Error(`the RPC sent malformed call data for ${to}`);
  return raw;
}

/** The receipt of a mined transaction, or null when the chain has none by that hash. */
export async function readReceipt(rpc: JsonRpc, txHash: string): Promise<RpcReceipt | null> {
  const raw = (await rpc('eth_getTransactionReceipt', [txHash])) as Record<string, unknown> | null;
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || !Array.isArray(raw.logs) || typeof raw.from !== 'string') {
    throw new Error(`the RPC sent a malformed receipt for ${txHash}`);
  }
  const logs = (raw.logs as Record<string, unknown>[]).map((log) => ({
    address: getAddress(String(log.address)),
    topics: Array.isArray(log.topics) ? log.topics.map(String) : [],
    data: typeof log.data === 'string' ? log.data : '0x',
  }));
  return {
    transactionHash: String(raw.transactionHash ?? txHash),
    status: quantity(raw.status, 'receipt status'),
    blockNumber: quantity(raw.blockNumber, 'block number'),
    from: getAddress(raw.from),
    to: typeof raw.to === 'string' ? getAddress(raw.to) : null,
    logs,
  };
}
