// Server-Sent Events for a job: one `token` event per generated token, then a `done` event
// carrying the whole job (output, usage, cost). Heartbeat comments keep proxies from timing out.
// A stream open for `maxLifetimeMs` ends with an `expired` event naming the job's URL instead.
import type { FastifyReply } from 'fastify';
import type { JobEvents } from './job-events.js';
import { createJobRepository, FINAL_STATUSES } from './job-repository.js';
import { jobView } from './job-views.js';
import type { Db } from '../db/database.js';
import { receiptsForJobs } from '../receipts/receipt-lookup.js';

const jsonWithBigints = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));

/**
 * Takes the response over as a Server-Sent Events stream about one job and sends the headers at once
 * (the client knows the stream is open before the first event). Native and OpenAI streams share it.
 */
export function openJobEventStream(reply: FastifyReply, jobId: string) {
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(reply.request.id),
    // A client whose connection drops mid-stream can still find its job (and resume with /events).
    'x-job-id': jobId,
    'content-location': `/v1/jobs/${jobId}`,
  });
  raw.flushHeaders();
  return raw;
}

export async function streamJob(
  reply: FastifyReply,
  /** `receipts`: issues a succeeded job's receipt from the outbox, so the `done` event carries it. */
  deps: { db: Db; events: JobEvents; receipts?: { ensureReceipt(jobId: string): Promise<void> } },
  jobId: string,
  options: { maxLifetimeMs: number },
) {
  const repo = createJobRepository(deps.db);
  const raw = openJobEventStream(reply, jobId);
  const send = (event: string, data: unknown) => raw.write(`event: ${event}\ndata: ${jsonWithBigints(data)}\n\n`);

  // Whichever comes first ends the wait: the job's `done`, the client leaving, or the lifetime.
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
  const unsubscribe = await deps.events.subscribe(
    jobId,
    (e) => {
    if (e.type === 'token') send('token', { index: e.index, text: e.text, attempt: e.attempt });
    else if (e.type === 'status') send('status', { status: e.status });
    else if (e.type === 'progress') send('progress', { step: e.step, steps: e.steps, loss: e.loss, tokens_per_second: e.tokens_per_second });
    else if (e.type === 'done') end('done');
    },
    { tokens: true },
  );
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
  const lifetime = setTimeout(() => end('expired'), options.maxLifetimeMs);
  try {
    const current = await repo.find(jobId);
    if (!current || !FINAL_STATUSES.includes(current.status)) await finished;
    const job = await repo.find(jobId);
    if (job && ended === 'expired' && !FINAL_STATUSES.includes(job.status)) {
      if (!raw.destroyed) {
        send('expired', {
          id: job.id,
          status: job.status,
          url: `/v1/jobs/${job.id}`,
          events_url: `/v1/jobs/${job.id}/events`,
          detail: `the stream reached its ${options.maxLifetimeMs} ms lifetime; the job goes on: poll its url or follow events_url`,
        });
      }
      return;
    }
    if (job?.status === 'succeeded') await deps.receipts?.ensureReceipt(job.id);
    const receipt = job ? (await receiptsForJobs(deps.db, [job.id])).get(job.id) : undefined;
    if (job && !raw.destroyed) send('done', jobView(job, receipt));
  } finally {
    clearInterval(heartbeat);
    clearTimeout(lifetime);
    await unsubscribe();
    raw.end();
  }
}
