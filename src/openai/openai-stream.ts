// An infer job streamed as OpenAI chunks: `data: {chunk}` per token, the finish reason, then (with
// stream_options.include_usage) a chunk with usage and no choices, then `data: [DONE]`. The last chunk
// carries the `posthuman` block (job, cost, receipt id and JWS). A failed job ends with
// `data: {"error": …}`, which the official SDKs raise as an APIError.
import type { FastifyReply } from 'fastify';
import type { Db } from '../db/database.js';
import type { JobEvents } from '../jobs/job-events.js';
import { createJobRepository, FINAL_STATUSES, type JobRow } from '../jobs/job-repository.js';
import { openJobEventStream } from '../jobs/job-stream.js';
import { publicJobError } from '../jobs/job-errors.js';
import { receiptsForJobs } from '../receipts/receipt-lookup.js';
import { finishReason } from './completion-request.js';
import { chunk, envelope, type Flavour, jobOutput, posthumanBlock, usage } from './openai-views.js';

export interface OpenAIStreamDeps {
  db: Db;
  events: JobEvents;
  receipts: { ensureReceipt(jobId: string): Promise<void> };
}

export async function streamCompletion(
  reply: FastifyReply,
  deps: OpenAIStreamDeps,
  job: JobRow,
  flavour: Flavour,
  options: { includeUsage: boolean; maxLifetimeMs: number },
) {
  const repo = createJobRepository(deps.db);
  const raw = openJobEventStream(reply, job.id);
  const send = (data: unknown) => {
    if (!raw.destroyed) raw.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  if (flavour === 'chat') send(chunk(job, flavour, { role: true, text: '' }, options.includeUsage));

  // Tokens are sent in index order; a re-run (new attempt) repeats indexes already sent, and a gap
  // (tokens published before this subscription) stops per-token chunks: the rest goes out at the end.
  let streamed = '';
  let next = 0;
  let gap = false;
  let ended: 'done' | 'closed' | 'expired' | null = null;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const end = (why: 'done' | 'closed' | 'expired') => {
    ended ??= why;
    finish();
  };
  // Listen before any await: a client that leaves while the subscription is set up must still free its slot.
  raw.on('close', () => end('closed'));
  if (raw.destroyed) end('closed');
  const unsubscribe = await deps.events.subscribe(job.id, (e) => {
    if (e.type === 'token') {
      if (!gap && e.index === next) {
        next++;
        streamed += e.text;
        send(chunk(job, flavour, { text: e.text }, options.includeUsage));
      } else if (e.index > next) gap = true;
    } else if (e.type === 'done') end('done');
  });
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
  const lifetime = setTimeout(() => end('expired'), options.maxLifetimeMs);
  try {
    const current = await repo.find(job.id);
    if (!current || !FINAL_STATUSES.includes(current.status)) await finished;
    if (ended === 'closed') return;
    const latest = (await repo.find(job.id)) ?? job;
    if (!FINAL_STATUSES.includes(latest.status)) {
      send({
        error: {
          message: `the stream reached its ${options.maxLifetimeMs} ms lifetime; the job goes on at /v1/jobs/${job.id}`,
          type: 'timeout',
          param: null,
          code: 'stream_expired',
        },
      });
      return;
    }
    if (latest.status === 'failed') {
      const error = publicJobError(latest.error?.code ?? 'worker_error', latest.error?.message ?? '');
      send({ error: { message: error.message, type: 'server_error', param: null, code: error.code } });
      return;
    }
    if (latest.status === 'succeeded') await deps.receipts.ensureReceipt(latest.id);
    const receipt = (await receiptsForJobs(deps.db, [latest.id])).get(latest.id);
    const output = jobOutput(latest);
    const rest = output.startsWith(streamed) ? output.slice(streamed.length) : '';
    if (rest) send(chunk(latest, flavour, { text: rest }, options.includeUsage));
    const reason = finishReason((latest.result as { finish_reason?: unknown } | null)?.finish_reason);
    const last = chunk(latest, flavour, { finish: reason }, options.includeUsage);
    const extension = posthumanBlock(latest, receipt);
    if (options.includeUsage) {
      send(last);
      send({ ...envelope(latest, flavour), object: last.object, choices: [], usage: usage(latest), posthuman: extension });
    } else {
      send({ ...last, posthuman: extension });
    }
    if (!raw.destroyed) raw.write('data: [DONE]\n\n');
  } finally {
    clearInterval(heartbeat);
    clearTimeout(lifetime);
    await unsubscribe();
    raw.end();
  }
}
