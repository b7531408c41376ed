// A typed client for the gateway: every operation through openapi-fetch with the types generated
// from openapi/openapi.json (src/client/openapi-types.ts), plus what plain requests do not give:
// job streams as typed events, and receipt verification with the standalone verifier.
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import { type ReceiptPayload, type TrustedKeys, verifyReceiptInclusion, verifyReceiptSignature } from '../verifier/index.js';
import { readEventStream } from './event-stream.js';
import type { components, paths } from './openapi-types.js';

type Schemas = components['schemas'];
export type Job = Schemas['Job'];
export type InferRequest = Schemas['InferRequest'];
export type Problem = Schemas['Problem'];
export type Receipt = Schemas['Receipt'];
export type Model = Schemas['Model'];
export type Account = Schemas['Account'];

/** The events of a job stream (`stream: true`, or GET /v1/jobs/{id}/events), the last one `done` or `expired`. */
export type JobEvent =
  | { event: 'status'; data: { status: Job['status'] } }
  | { event: 'token'; data: { index: number; text: string; attempt: number } }
  | { event: 'progress'; data: { step: number; steps: number; loss: number; tokens_per_second: number } }
  | { event: 'done'; data: Job }
  | { event: 'expired'; data: { id: string; status: Job['status']; url: string; events_url: string; detail: string } };

/** A problem+json answer, thrown by `unwrap` and the stream helpers. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem ? `${status} ${problem.code}: ${problem.detail}` : `HTTP ${status}`);
    this.name = 'GatewayError';
  }
}

/** The data of a 2xx answer, or a GatewayError for an error answer. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw new GatewayError(result.response.status, result.error as Problem | undefined);
  return result.data as T;
}

export interface ReceiptCheckResult {
  /** True when the signature, the worker attestation and (when checked) the log inclusion all verify. */
  ok: boolean;
  checks: Array<{ check: string; ok: boolean; detail: string }>;
  /** The decoded payload, only when the gateway's signature verified. */
  receipt: ReceiptPayload | undefined;
}

export interface GatewayClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the gateway listens, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** An API key (`ph_…`), or a wallet session token; sent as `Authorization: Bearer`. */
  apiKey?: string;
}

export interface GatewayClient {
  /** Every operation, typed: `api.GET('/v1/jobs/{id}', { params: { path: { id } } })`. */
  api: Client<paths>;
  /**
   * POST /v1/infer answered as JSON: the finished job, or (202) the job still running after the wait
   * (`prefer: 'wait=N'` or `'respond-async'` choose it; follow it with followJob).
   */
  infer(body: Omit<InferRequest, 'stream'>, headers?: { prefer?: string; 'idempotency-key'?: string }): Promise<Job>;
  /** POST /v1/infer with `stream: true`, as typed events ending with `done` (the whole job) or `expired`. */
  inferStream(body: Omit<InferRequest, 'stream'>, headers?: { 'idempotency-key'?: string }): AsyncGenerator<JobEvent>;
  /** GET /v1/jobs/{id}/events: a job's events until it is final. */
  followJob(id: string): AsyncGenerator<JobEvent>;
  /**
   * Verifies a receipt against this gateway's published keys (/.well-known/jwks.json): the gateway's
   * signature and the worker's attestation, and with `inclusion` (default) its RFC 6962 inclusion
   * under a signed tree head of the log. On-chain checks (weights, order, anchor) are
   * `npx posthuman verify`'s, which trusts the gateway for nothing.
   */
  verifyReceipt(jws: string, options?: { inclusion?: boolean; jwks?: TrustedKeys }): Promise<ReceiptCheckResult>;
}

async function* jobEvents(result: { data?: unknown; error?: unknown; response: Response }): AsyncGenerator<JobEvent> {
  const body = unwrap(result) as ReadableStream<Uint8Array> | undefined;
  if (!body) return;
  for await (const message of readEventStream(body)) {
    yield { event: message.event, data: JSON.parse(message.data) } as JobEvent;
  }
}

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const { apiKey, headers, ...rest } = options;
  const api = createClient<paths>({
    ...rest,
    headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...(headers as Record<string, string> | undefined) },
  });
  return {
    api,
    async infer(body, headers = {}) {
      const job = unwrap(await api.POST('/v1/infer', { body, params: { header: headers } }));
      if (typeof job === 'string') throw new TypeError('POST /v1/infer answered an event stream to a request without stream: true');
      return job;
    },
    inferStream: (body, headers = {}) =>
      (async function* () {
        yield* jobEvents(await api.POST('/v1/infer', { body: { ...body, stream: true }, params: { header: headers }, parseAs: 'stream' }));
      })(),
    followJob: (id) =>
      (async function* () {
        yield* jobEvents(await api.GET('/v1/jobs/{id}/events', { params: { path: { id } }, parseAs: 'stream' }));
      })(),
    async verifyReceipt(jws, { inclusion = true, jwks } = {}) {
      const keys = jwks ?? (unwrap(await api.GET('/.well-known/jwks.json')) as TrustedKeys);
      const signed = await verifyReceiptSignature(jws, keys);
      const checks: ReceiptCheckResult['checks'] = [...signed.checks];
      if (inclusion && !signed.receipt) checks.push({ check: 'inclusion', ok: false, detail: 'not checked: the receipt signature did not verify' });
      else if (inclusion && signed.receipt) {
        const proof = await api.GET('/v1/log/proof/inclusion', { params: { query: { receipt: signed.receipt.receipt_id } } });
        checks.push(
          proof.data
            ? await verifyReceiptInclusion(jws, proof.data, keys)
            : { check: 'inclusion', ok: false, detail: `the log has no proof for it (HTTP ${proof.response.status})` },
        );
      }
      return { ok: checks.every((c) => c.ok), checks, receipt: signed.receipt };
    },
  };
}
