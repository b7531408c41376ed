// The soak's clients: accounts funded by operator grants, then jobs of four shapes (sync infer, async
// infer polled, streamed infer, evaluate), half with an Idempotency-Key, retried through faults as a
// careful client would (connection errors, 503, 429), some replayed after they finished.
import { setTimeout as delay } from 'node:timers/promises';

export type Mode = 'sync' | 'async' | 'stream' | 'evaluate';
export const MODES: Mode[] = ['sync', 'async', 'stream', 'evaluate'];
const FINAL = ['succeeded', 'failed', 'cancelled'];

export interface SoakAccount {
  id: string;
  key: string;
  /** Micro-credits the operator granted (each grant counted once, whatever was retried). */
  granted: bigint;
}

export interface JobOutcome {
  index: number;
  mode: Mode;
  keyed: boolean;
  jobId?: string;
  /** The final status the client saw; `lost` when it could not learn its job (an unkeyed stream cut). */
  status: 'succeeded' | 'failed' | 'cancelled' | 'lost' | 'rejected';
  detail?: string;
  /** HTTP requests made for this job (submits, polls, stream reads). */
  requests: number;
  /** Submits made again after a connection error or a 5xx/429. */
  resubmits: number;
  finishedAt: number;
  replay?: { jobId?: string; ok: boolean; detail?: string };
}

export interface LoadOptions {
  baseUrl: () => string;
  accounts: SoakAccount[];
  /** Jobs to issue at least; more are issued while `keepGoing()` says so (the faults are not done). */
  jobs: number;
  concurrency: number;
  keepGoing: () => boolean;
  /** No new job starts after this time (ms since epoch). */
  deadline: number;
  /** How long one job may take, retries and polls included. */
  jobTimeoutMs: number;
  onOutcome?: (o: JobOutcome) => void;
}

export interface LoadCounters {
  connectionErrors: number;
  /** Answers by status code for statuses a client retries (429, 5xx). */
  retriedStatuses: Record<string, number>;
  /** The first few 500 answers (method, path, problem body): a 500 is a bug worth reading. */
  serverErrors: string[];
}

class LoadError extends Error {}

/** A request that survives the gateway's restarts: connection errors, 429 and 5xx are retried until the deadline. */
async function call(
  opts: { baseUrl: () => string; counters: LoadCounters; deadline: number; onRetry?: () => void },
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number },
): Promise<Response> {
  let backoff = 200;
  for (;;) {
    if (Date.now() > opts.deadline) throw new LoadError(`deadline passed: ${init.method ?? 'GET'} ${path}`);
    let wait = backoff;
    try {
      const res = await fetch(`${opts.baseUrl()}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
        body: init.body ? JSON.stringify(init.body) : undefined,
        signal: AbortSignal.timeout(init.timeoutMs ?? 60_000),
      });
      if (res.status !== 429 && res.status < 500) return res;
      opts.counters.retriedStatuses[res.status] = (opts.counters.retriedStatuses[res.status] ?? 0) + 1;
      const after = Number(res.headers.get('retry-after'));
      // Retry-After is honoured up to 2 s: the soak wants load through the fault, not politeness.
      if (after > 0) wait = Math.min(after * 1000, 2000);
      if (res.status === 500 && opts.counters.serverErrors.length < 5) {
        opts.counters.serverErrors.push(`${init.method ?? 'GET'} ${path}: ${(await res.text().catch(() => '')).slice(0, 300)}`);
      } else {
        await res.body?.cancel().catch(() => {});
      }
    } catch (err) {
      if (err instanceof LoadError) throw err;
      opts.counters.connectionErrors++;
    }
    opts.onRetry?.();
    await delay(wait);
    backoff = Math.min(backoff * 2, 2000);
  }
}

async function operatorCall(baseUrl: () => string, token: string, counters: LoadCounters, path: string, body: unknown, key?: string) {
  const res = await call({ baseUrl, counters, deadline: Date.now() + 120_000 }, path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) },
    body,
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/**
 * Creates `count` accounts, each funded by two grants of `grant` (the first sent twice with its
 * Idempotency-Key: it must move credit once), each with one API key for infer and evaluate.
 */
export async function setUpAccounts(baseUrl: () => string, operatorToken: string, count: number, grant: bigint, runId: string, counters: LoadCounters) {
  const accounts: SoakAccount[] = [];
  for (let i = 0; i < count; i++) {
    const account = await operatorCall(baseUrl, operatorToken, counters, '/v1/admin/accounts', { name: `soak ${runId} ${i}` });
    const id = String(account.id);
    const credits = `/v1/admin/accounts/${id}/credits`;
    for (const n of [1, 1, 2]) {
      await operatorCall(baseUrl, operatorToken, counters, credits, { amount: Number(grant), reason: `soak grant ${n}` }, `soak-${runId}-${i}-grant-${n}`);
    }
    const key = await operatorCall(baseUrl, operatorToken, counters, `/v1/admin/accounts/${id}/keys`, { name: 'soak', scopes: ['infer', 'evaluate'] });
    accounts.push({ id, key: String(key.key), granted: grant * 2n });
  }
  return accounts;
}

/** The request of job `index`: a marker `soak#<index>#` in its text lets the database be matched to the client. */
function requestFor(index: number, mode: Mode): { path: string; body: Record<string, unknown> } {
  const words = ['river', 'lantern', 'copper', 'meadow', 'signal', 'harbor', 'quiet', 'orbit'];
  const text = `soak#${index}# ${words[index % words.length]} ${words[(index * 7) % words.length]}`;
  if (mode === 'evaluate') return { path: '/v1/evaluate', body: { model: 'tiny-gpt2', texts: [text, `a second text ${index}`] } };
  const parameters: Record<string, unknown> = { max_new_tokens: 2 + (index % 3) };
  if (index % 3 === 1) Object.assign(parameters, { temperature: 0.8, top_k: 40, seed: index });
  return { path: '/v1/infer', body: { model: 'tiny-gpt2', input: text, parameters, ...(mode === 'stream' ? { stream: true } : {}) } };
}

type Finished = { jobId?: string; status: JobOutcome['status']; detail?: string };

/** Reads an SSE answer until `done` (the job) or `expired` (its id); a cut stream yields null. */
async function readStream(res: Response): Promise<{ event: 'done' | 'expired'; data: Record<string, unknown> } | null> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if ((event === 'done' || event === 'expired') && data) return { event, data: JSON.parse(data) };
      }
    }
  } catch {
    return null;
  } finally {
    reader.cancel().catch(() => {});
  }
}

export async function runLoad(opts: LoadOptions): Promise<{ outcomes: JobOutcome[]; counters: LoadCounters }> {
  const counters: LoadCounters = { connectionErrors: 0, retriedStatuses: {}, serverErrors: [] };
  const outcomes: JobOutcome[] = [];
  let next = 0;

  async function poll(jobId: string, auth: Record<string, string>, deadline: number, count: () => void): Promise<Finished> {
    for (;;) {
      count();
      const res = await call({ baseUrl: opts.baseUrl, counters, deadline }, `/v1/jobs/${jobId}`, { headers: auth });
      const job = (await res.json()) as { status?: string; error?: { code?: string } };
      if (res.status !== 200) return { jobId, status: 'rejected', detail: `GET job answered ${res.status}` };
      if (job.status && FINAL.includes(job.status)) return { jobId, status: job.status as Finished['status'], detail: job.error?.code };
      await delay(500);
    }
  }

  /** Submits (and, for keyed jobs, resubmits after a cut) until the job is final. */
  async function submit(index: number, mode: Mode, key: string | undefined, auth: Record<string, string>, deadline: number, o: JobOutcome): Promise<Finished> {
    const { path, body } = requestFor(index, mode);
    const headers = { ...auth, ...(key ? { 'idempotency-key': key } : {}), ...(mode === 'async' ? { prefer: 'respond-async' } : {}) };
    const count = () => o.requests++;
    for (;;) {
      count();
      const res = await call({ baseUrl: opts.baseUrl, counters, deadline, onRetry: () => o.resubmits++ }, path, {
        method: 'POST',
        headers,
        body,
        timeoutMs: mode === 'stream' ? 90_000 : 60_000,
      });
      if (mode === 'stream' && res.status === 200 && res.headers.get('content-type')?.startsWith('text/event-stream')) {
        const answer = await readStream(res);
        if (answer?.event === 'done') {
          const job = answer.data as { id: string; status: string; error?: { code?: string } };
          return { jobId: job.id, status: job.status as Finished['status'], detail: job.error?.code };
        }
        if (answer?.event === 'expired') return poll(String(answer.data.id), auth, deadline, count);
        // Cut before `done` (the gateway died): with its key the job is found again; without, it is lost to us.
        if (!key) return { status: 'lost', detail: 'stream cut before done, no Idempotency-Key to find the job again' };
        o.resubmits++;
        await delay(200);
        continue;
      }
      const job = (await res.json()) as { id?: string; status?: string; code?: string; error?: { code?: string } };
      if (res.status === 200 && job.status && FINAL.includes(job.status)) {
        return { jobId: job.id, status: job.status as Finished['status'], detail: job.error?.code };
      }
      if (res.status === 200 || res.status === 202) return poll(String(job.id), auth, deadline, count);
      return { status: 'rejected', detail: `${res.status} ${job.code ?? ''}` };
    }
  }

  async function one(index: number): Promise<JobOutcome> {
    const mode = MODES[index % MODES.length];
    const keyed = Math.floor(index / MODES.length) % 2 === 0;
    const account = opts.accounts[index % opts.accounts.length];
    const auth = { authorization: `Bearer ${account.key}` };
    const key = keyed ? `soak-job-${index}` : undefined;
    const deadline = Date.now() + opts.jobTimeoutMs;
    const o: JobOutcome = { index, mode, keyed, status: 'lost', requests: 0, resubmits: 0, finishedAt: 0 };
    try {
      Object.assign(o, await submit(index, mode, key, auth, deadline, o));
      // Some keyed jobs are sent again after they finished: the same job must come back, charged once.
      if (key && o.jobId && Math.floor(index / MODES.length) % 4 === 0) {
        const again = await submit(index, mode, key, auth, Date.now() + opts.jobTimeoutMs, o);
        o.replay = { jobId: again.jobId, ok: again.jobId === o.jobId, detail: again.jobId === o.jobId ? undefined : `first ${o.jobId}, replay ${again.jobId ?? again.status}` };
      }
    } catch (err) {
      o.status = 'lost';
      o.detail = err instanceof Error ? err.message : String(err);
    }
    o.finishedAt = Date.now();
    return o;
  }

  async function lane() {
    for (;;) {
      if (Date.now() > opts.deadline) return;
      if (next >= opts.jobs && !opts.keepGoing()) return;
      const o = await one(next++);
      outcomes.push(o);
      opts.onOutcome?.(o);
    }
  }

  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  return { outcomes, counters };
}
