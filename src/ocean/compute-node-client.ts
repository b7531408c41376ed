// A typed client for an Ocean compute node's C2D v2 HTTP API (ocean-node's /api/services routes):
// environments, initialize, start, status, result and stop. Signing is the caller's: the gateway's
// consumer wallet signs (workers hold no wallet keys), the client only builds what is signed.
import { getBytes, keccak256, toUtf8Bytes } from 'ethers';

/** ocean-node's command names: they are part of what the consumer signs. */
export const NODE_COMMANDS = {
  start: 'startCompute',
  stop: 'stopCompute',
  result: 'getComputeResult',
} as const;
export type SignedCommand = (typeof NODE_COMMANDS)[keyof typeof NODE_COMMANDS];

/** ocean-node's job status numbers (C2DStatusNumber). */
export const NODE_STATUS = {
  JobStarted: 0,
  JobQueued: 1,
  JobQueuedExpired: 2,
  PullImage: 10,
  PullImageFailed: 11,
  BuildImage: 12,
  BuildImageFailed: 13,
  VulnerableImage: 14,
  ConfiguringVolumes: 20,
  VolumeCreationFailed: 21,
  ContainerCreationFailed: 22,
  Provisioning: 30,
  DataProvisioningFailed: 31,
  AlgorithmProvisioningFailed: 32,
  DataUploadFailed: 33,
  RunningAlgorithm: 40,
  AlgorithmFailed: 41,
  DiskQuotaExceeded: 42,
  FilteringResults: 50,
  PublishingResults: 60,
  ResultsFetchFailed: 61,
  ResultsUploadFailed: 62,
  JobFinished: 70,
  JobSettle: 71,
} as const;

/** Statuses after which the node does no more work on the job, and which of them carry no usable result. */
const FAILED_STATUSES = new Set<number>([2, 11, 13, 14, 21, 22, 31, 32, 33, 41, 42, 61, 62]);
export const isNodeJobFailed = (status: number) => FAILED_STATUSES.has(status);
export const isNodeJobDone = (status: number) => status === NODE_STATUS.JobFinished || isNodeJobFailed(status);

export interface NodeResource {
  id: string;
  total?: number;
  min?: number;
  max?: number;
}
export interface NodeEnvironment {
  /** `<cluster hash>-<env id>`. */
  id: string;
  /** The node's address on chain: the payee of its Escrow locks. */
  consumerAddress: string;
  fees: Record<string, Array<{ feeToken: string; prices: Array<{ id: string; price: number }> }>>;
  resources?: NodeResource[];
  maxJobDuration?: number;
  minJobDuration?: number;
}
export interface NodeAsset {
  documentId?: string;
  serviceId?: string;
  transferTxId?: string;
  userdata?: Record<string, unknown>;
}
export interface NodeAlgorithm {
  documentId?: string;
  serviceId?: string;
  meta?: { rawcode?: string; container?: { entrypoint: string; image: string; tag: string; checksum: string } };
  algocustomdata?: Record<string, unknown>;
}
export interface NodePaymentRequest {
  chainId: number;
  token: string;
  resources?: Array<{ id: string; amount: number }>;
}
export interface InitializeRequest {
  datasets: NodeAsset[];
  algorithm: NodeAlgorithm;
  environment: string;
  payment: NodePaymentRequest;
  maxJobDuration: number;
}
/** What the node asks to be paid through Escrow before it starts (amount in token base units). */
export interface NodePaymentTerms {
  escrowAddress: string;
  payee: string;
  chainId: number;
  minLockSeconds: number;
  token: string;
  amount: string;
}
export interface InitializeResponse {
  algorithm: unknown;
  datasets: unknown[];
  payment: NodePaymentTerms;
}
export interface StartRequest extends InitializeRequest {
  resources: Array<{ id: string; amount: number }>;
}
export interface NodeJobResult {
  filename: string;
  filesize: number;
  type: string;
  index?: number;
}
export interface NodeJob {
  owner: string;
  jobId: string;
  dateCreated: string;
  dateFinished: string | null;
  status: number;
  statusText: string;
  results: NodeJobResult[];
  environment?: string;
  maxJobDuration?: number;
}

/** Signs `message` (the keccak256 of consumer + nonce + command, as bytes) with the consumer wallet. */
export type ConsumerSign = (message: Uint8Array) => Promise<string>;

export interface ComputeNodeClientOptions {
  baseUrl: string;
  consumerAddress: string;
  sign: ConsumerSign;
  /** Per request; a node that does not answer in time is treated as down. Default 10 s. */
  timeoutMs?: number;
}

export type ComputeNodeErrorCode = 'node_unreachable' | 'node_timeout' | 'node_error' | 'node_refused' | 'node_bad_response';

/**
 * A node failure. `retryable`: the node is down, timed out or failed inside (5xx), so the same call
 * may work later; otherwise (4xx, a malformed answer) it will not, and `message` carries the node's words.
 */
export class ComputeNodeError extends Error {
  override name = 'ComputeNodeError';
  constructor(
    readonly code: ComputeNodeErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

/** What the consumer signs for `command`: ocean-node checks keccak256(utf8(consumer + nonce + command)). */
export function consumerMessage(consumerAddress: string, nonce: string, command: SignedCommand): Uint8Array {
  return getBytes(keccak256(toUtf8Bytes(`${consumerAddress}${nonce}${command}`)));
}

export function createComputeNodeClient(options: ComputeNodeClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const consumer = options.consumerAddress;
  // ocean-node keeps the last nonce per consumer and refuses one not above it: strictly increasing here.
  let lastNonce = 0;
  const nextNonce = () => {
    lastNonce = Math.max(Date.now(), lastNonce + 1);
    return String(lastNonce);
  };
  const signed = async (command: SignedCommand) => {
    const nonce = nextNonce();
    return { consumerAddress: consumer, nonce, signature: await options.sign(consumerMessage(consumer, nonce, command)) };
  };

  async function request(method: string, path: string, init: { query?: Record<string, string>; body?: unknown } = {}): Promise<Response> {
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      if (timedOut) throw new ComputeNodeError('node_timeout', `${method} ${path}: the compute node did not answer within ${timeoutMs} ms`, true);
      throw new ComputeNodeError('node_unreachable', `${method} ${path}: the compute node is unreachable (${(err as Error).message})`, true);
    }
    if (res.ok) return res;
    const text = (await res.text().catch(() => '')).slice(0, 500);
    const detail = nodeMessage(text) || res.statusText;
    if (res.status >= 500) throw new ComputeNodeError('node_error', `${method} ${path}: the compute node failed (${res.status}): ${detail}`, true, res.status);
    throw new ComputeNodeError('node_refused', `${method} ${path}: the compute node refused the request (${res.status}): ${detail}`, false, res.status);
  }

  async function json<T>(res: Response, what: string, valid: (v: unknown) => boolean): Promise<T> {
    const value: unknown = await res.json().catch(() => undefined);
    if (!valid(value)) throw new ComputeNodeError('node_bad_response', `the compute node's ${what} answer is not what ocean-node sends`, false, res.status);
    return value as T;
  }

  return {
    baseUrl: base,

    async environments(chainId?: number): Promise<NodeEnvironment[]> {
      const res = await request('GET', '/api/services/computeEnvironments', { query: chainId === undefined ? {} : { chainId: String(chainId) } });
      return json(res, 'computeEnvironments', (v) => Array.isArray(v) && v.every((e) => typeof e?.id === 'string' && typeof e?.consumerAddress === 'string'));
    },

    async initialize(body: InitializeRequest): Promise<InitializeResponse> {
      const res = await request('POST', '/api/services/initializeCompute', { body: { ...body, consumerAddress: consumer } });
      return json(res, 'initializeCompute', (v) => {
        const p = (v as InitializeResponse | undefined)?.payment;
        return typeof p?.escrowAddress === 'string' && typeof p.payee === 'string' && typeof p.amount === 'string' && typeof p.minLockSeconds === 'number';
      });
    },

    /** Starts a paid job; the node locks its payment in Escrow before answering. */
    async start(body: StartRequest): Promise<NodeJob> {
      const res = await request('POST', '/api/services/compute', { body: { ...body, ...(await signed(NODE_COMMANDS.start)) } });
      const jobs = await json<NodeJob[]>(res, 'compute start', isJobList);
      if (jobs.length !== 1) throw new ComputeNodeError('node_bad_response', `the compute node started ${jobs.length} jobs, not one`, false, res.status);
      return jobs[0];
    },

    /** The job's status; undefined when the node does not know it. */
    async status(jobId: string): Promise<NodeJob | undefined> {
      const res = await request('GET', '/api/services/compute', { query: { consumerAddress: consumer, jobId } });
      const jobs = await json<NodeJob[]>(res, 'compute status', isJobList);
      return jobs.find((j) => j.jobId === jobId);
    },

    async result(jobId: string, index: number): Promise<Buffer> {
      const auth = await signed(NODE_COMMANDS.result);
      const res = await request('GET', '/api/services/computeResult', { query: { ...auth, jobId, index: String(index) } });
      return Buffer.from(await res.arrayBuffer());
    },

    async stop(jobId: string): Promise<NodeJob[]> {
      const auth = await signed(NODE_COMMANDS.stop);
      const res = await request('PUT', '/api/services/compute', { query: { ...auth, jobId } });
      return json(res, 'compute stop', isJobList);
    },
  };
}

export type ComputeNodeClient = ReturnType<typeof createComputeNodeClient>;

const isJobList = (v: unknown) => Array.isArray(v) && v.every((j) => typeof j?.jobId === 'string' && typeof j?.status === 'number' && Array.isArray(j?.results));

/** ocean-node answers errors as a JSON string, a plain string, or `{ error }`. */
function nodeMessage(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'string') return parsed;
    if (parsed && typeof (parsed as { error?: unknown }).error === 'string') return (parsed as { error: string }).error;
  } catch {
    // not JSON: the text itself
  }
  return text;
}
