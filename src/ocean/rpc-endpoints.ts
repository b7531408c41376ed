// Several JSON-RPC endpoints for one chain (CHAIN_RPC_URL / OCEAN_RPC_URL as a comma-separated list):
// requests go to one endpoint and move to the next when it cannot be reached, so one RPC provider's
// outage does not stop ordering or order checks. Answers (JSON-RPC errors included) are never retried
// elsewhere: only a transport failure (refused, timeout, HTTP error, not JSON) moves on.
import { FetchRequest, type JsonRpcPayload, JsonRpcProvider, type JsonRpcResult, Network } from 'ethers';
import { OceanError } from './ocean-error.js';

/** Splits and checks a comma-separated list of http(s) URLs; throws `config_invalid` naming `variable`. */
export function parseRpcUrls(value: string, variable: string): string[] {
  const urls = value
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new OceanError('config_invalid', `${variable}: no URL given`);
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new OceanError('config_invalid', `${variable}: "${redactRpcUrl(url)}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new OceanError('config_invalid', `${variable}: ${parsed.protocol} is not supported (JSON-RPC over http(s) only)`);
    }
  }
  if (new Set(urls).size !== urls.length) throw new OceanError('config_invalid', `${variable}: the same URL is listed twice`);
  return urls;
}

/** An RPC URL safe to print: the origin only (providers put API keys in the path or query). */
export function redactRpcUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const hidden = parsed.pathname.length > 1 || parsed.search || parsed.username ? '/…' : '';
    return `${parsed.protocol}//${parsed.host}${hidden}`;
  } catch {
    return '(not a URL)';
  }
}

export interface FailoverOptions {
  timeoutMs?: number;
  /** After this long on a fallback, the first endpoint is tried first again. Default 30 s. */
  primaryRetryMs?: number;
  /** Told when requests move to another endpoint (index into the list). */
  onSwitch?: (from: number, to: number, err: unknown) => void;
}

/**
 * A JsonRpcProvider over an ordered list of endpoints: the first that answers serves, and it stays
 * in use until it fails in turn. With one URL it is exactly a JsonRpcProvider.
 */
export class FailoverJsonRpcProvider extends JsonRpcProvider {
  readonly urls: readonly string[];
  private readonly requests: FetchRequest[];
  private readonly primaryRetryMs: number;
  private readonly onSwitch: FailoverOptions['onSwitch'];
  private current = 0;
  private switchedAt = 0;

  constructor(urls: readonly string[], chainId: number, options: FailoverOptions = {}) {
    const requests = urls.map((url) => {
      const request = new FetchRequest(url);
      request.timeout = options.timeoutMs ?? 15_000;
      return request;
    });
    const network = Network.from(chainId);
    // Fixed network (no start-up probing), no batching stall, and no 250 ms response cache (it
    // would hand back a stale `latest` block or a stale null receipt).
    super(requests[0], network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1, pollingInterval: 250 });
    this.urls = [...urls];
    this.requests = requests;
    this.primaryRetryMs = options.primaryRetryMs ?? 30_000;
    this.onSwitch = options.onSwitch;
  }

  /** The endpoint requests go to now (index into `urls`). */
  get activeIndex(): number {
    return this.current;
  }

  override async _send(payload: JsonRpcPayload | Array<JsonRpcPayload>): Promise<Array<JsonRpcResult>> {
    const count = this.requests.length;
    const body = JSON.stringify(payload);
    if (this.current !== 0 && Date.now() - this.switchedAt >= this.primaryRetryMs) this.current = 0;
    let lastError: unknown;
    for (let step = 0; step < count; step++) {
      const index = (this.current + step) % count;
      const request = this.requests[index].clone();
      request.body = body;
      request.setHeader('content-type', 'application/json');
      try {
        const response = await request.send();
        response.assertOk();
        const json = response.bodyJson as JsonRpcResult | Array<JsonRpcResult>;
        if (index !== this.current) {
          this.onSwitch?.(this.current, index, lastError);
          this.current = index;
          this.switchedAt = Date.now();
        }
        return Array.isArray(json) ? json : [json];
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }
}

/** Each endpoint's chain id (null where it did not answer within `timeoutMs`), asked in parallel. */
export async function probeChainIds(urls: readonly string[], timeoutMs = 5_000): Promise<Array<number | null>> {
  return Promise.all(
    urls.map(async (url) => {
      const request = new FetchRequest(url);
      request.timeout = timeoutMs;
      request.retryFunc = async () => false;
      request.body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] });
      request.setHeader('content-type', 'application/json');
      try {
        const response = await request.send();
        if (!response.ok()) return null;
        const id = Number((response.bodyJson as { result?: string }).result);
        return Number.isSafeInteger(id) && id > 0 ? id : null;
      } catch {
        return null;
      }
    }),
  );
}

/**
 * The chain the endpoints serve: every endpoint that answers must name the same chain (and `expected`
 * when given); at least one must answer. Throws `config_invalid` or `rpc_unavailable` naming `variable`.
 */
export async function agreeOnChainId(urls: readonly string[], variable: string, expected?: number): Promise<number> {
  const ids = await probeChainIds(urls);
  const answered = ids.flatMap((id, i) => (id === null ? [] : [{ id, url: urls[i] }]));
  if (answered.length === 0) {
    throw new OceanError('rpc_unavailable', `${variable}: no endpoint answered eth_chainId (${urls.map(redactRpcUrl).join(', ')})`);
  }
  const chainId = expected ?? answered[0].id;
  const stray = answered.find((a) => a.id !== chainId);
  if (stray) {
    throw new OceanError('config_invalid', `${variable}: ${redactRpcUrl(stray.url)} serves chain ${stray.id}, not ${chainId}: every endpoint must serve the same chain`);
  }
  return chainId;
}
