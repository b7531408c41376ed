// SSE streams are capped per API key (released when a client leaves) and in lifetime.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../../src/jobs/jobs-schema.js';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
let short: TestApp;
let base: string;
const open: AbortController[] = [];

beforeAll(async () => {
  t = await createTestApp({ SSE_MAX_PER_KEY: '2' });
  await registerTinyModel(t);
  // A second gateway on the same database whose streams live 200 ms.
  short = await createTestApp({ SSE_MAX_PER_KEY: '1', SSE_MAX_LIFETIME_MS: '200' }, t.testDb);
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  for (const c of open) c.abort();
  expect(t.app.contractViolations).toEqual([]);
  expect(short.app.contractViolations).toEqual([]);
  await short?.close();
  await t?.close();
});

/** A job row that stays queued: nothing enqueues it, so its event stream stays open. */
async function queuedJob(accountId: string): Promise<string> {
  const [row] = await t.app.db
    .insert(jobs)
    .values({
      kind: 'infer',
      accountId,
      modelId: 'tiny-gpt2',
      weightsSha256: '0'.repeat(64),
      request: { input: 'never runs', parameters: { max_new_tokens: 1 } },
      inputTokens: 2,
      pricePerJob: 0n,
      pricePer1kTokens: 0n,
      maxCost: 0n,
    })
    .returning({ id: jobs.id });
  return row.id;
}

/** Opens an event stream over real HTTP; resolves with the response once its headers arrive. */
async function follow(jobId: string, headers: Record<string, string>) {
  const controller = new AbortController();
  open.push(controller);
  const res = await fetch(`${base}/v1/jobs/${jobId}/events`, { headers, signal: controller.signal });
  if (res.status !== 200) await res.text();
  return { res, close: () => controller.abort() };
}

async function eventually<T>(probe: () => Promise<T | null>, what: string, deadlineMs = 10_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until a key of SSE_MAX_PER_KEY = 2 can open two streams at once, then closes them. */
async function bothSlotsFree(j1: string, j2: string, headers: Record<string, string>) {
  const both = await eventually(async () => {
    const x = await follow(j1, headers);
    if (x.res.status !== 200) return null;
    const y = await follow(j2, headers);
    if (y.res.status === 200) return [x, y];
    x.close();
    return null;
  }, 'both slots to be released');
  for (const stream of both) stream.close();
}

const countJobs = async (accountId: string) =>
  (await t.app.db.select({ n: sql<number>`COUNT(*)::int` }).from(jobs).where(eq(jobs.accountId, accountId)))[0].n;

describe('SSE stream limits', () => {
  it('holds a key to SSE_MAX_PER_KEY open streams, refusing more with 429 too_many_streams and charging nothing', async () => {
    const a = await createFundedAccount(t, { credits: 1_000_000 });
    const b = await createFundedAccount(t, { credits: 1_000_000 });
    const [j1, j2, j3] = [await queuedJob(a.account.id), await queuedJob(a.account.id), await queuedJob(a.account.id)];
    const s1 = await follow(j1, a.headers);
    const s2 = await follow(j2, a.headers);
    expect([s1.res.status, s2.res.status]).toEqual([200, 200]);
    expect(s1.res.headers.get('content-type')).toContain('text/event-stream');

    const third = await t.app.inject({ method: 'GET', url: `/v1/jobs/${j3}/events`, headers: a.headers });
    expect(third.statusCode).toBe(429);
    expect(third.headers['content-type']).toContain('application/problem+json');
    expect(third.headers['retry-after']).toBe('1');
    expect(third.json()).toMatchObject({ status: 429, code: 'too_many_streams' });

    // A streamed infer is refused before its job exists: no job, no hold.
    const jobsBefore = await countJobs(a.account.id);
    const streamed = await t.app.inject({
      method: 'POST',
      url: '/v1/infer',
      headers: a.headers,
      payload: { model: 'tiny-gpt2', input: 'one stream too many', stream: true },
    });
    expect(streamed.statusCode).toBe(429);
    expect(streamed.json().code).toBe('too_many_streams');
    expect(await countJobs(a.account.id)).toBe(jobsBefore);
    expect((await t.app.inject({ method: 'GET', url: '/v1/account', headers: a.headers })).json()).toMatchObject({
      balance: 1_000_000,
      held: 0,
    });

    // Another key is not affected.
    const other = await follow(await queuedJob(b.account.id), b.headers);
    expect(other.res.status).toBe(200);
    other.close();

    // A client that leaves frees its slot.
    s1.close();
    const s3 = await eventually(async () => {
      const s = await follow(j3, a.headers);
      return s.res.status === 200 ? s : null;
    }, 'the closed stream to free its slot');
    expect(s3.res.status).toBe(200);
    s2.close();
    s3.close();
    // Both slots come back once both clients are gone.
    await bothSlotsFree(j1, j2, a.headers);
  });

  it('frees the slot of a client that leaves while its subscription is still being set up', async () => {
    const a = await createFundedAccount(t);
    const [j1, j2] = [await queuedJob(a.account.id), await queuedJob(a.account.id)];
    // Hold every subscription (the real one, in Redis) until the client has gone: the headers are already out.
    const events = t.app.jobEvents;
    const subscribe = events.subscribe.bind(events);
    let letThrough: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    events.subscribe = async (...args) => {
      await gate;
      return subscribe(...args);
    };
    try {
      for (const jobId of [j1, j2]) {
        const s = await follow(jobId, a.headers);
        expect(s.res.status).toBe(200);
        s.close();
      }
      await new Promise((r) => setTimeout(r, 100));
      letThrough();
    } finally {
      events.subscribe = subscribe;
    }
    // Both slots come back (before the fix they stayed taken for the stream's whole lifetime).
    await bothSlotsFree(j1, j2, a.headers);
  });

  it('ends a stream at SSE_MAX_LIFETIME_MS with an expired event naming the job url, and frees its slot', async () => {
    const a = await createFundedAccount(short);
    const jobId = await queuedJob(a.account.id);
    for (let round = 0; round < 2; round++) {
      // With one slot per key, the second round only streams if the first one released its slot.
      const res = await short.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/events`, headers: a.headers });
      expect(res.statusCode).toBe(200);
      const blocks = res.body.split('\n\n').filter((block) => block.startsWith('event:'));
      const last = blocks.at(-1) ?? '';
      expect(last.startsWith('event: expired')).toBe(true);
      expect(JSON.parse(last.slice(last.indexOf('data: ') + 6))).toMatchObject({
        id: jobId,
        status: 'queued',
        url: `/v1/jobs/${jobId}`,
        events_url: `/v1/jobs/${jobId}/events`,
      });
      expect(res.body).not.toContain('event: done');
    }
  });
});
