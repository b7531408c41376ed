// Datasets that never leave: uploads in both formats (hash, counts, the stored file), every refusal
// as problem+json naming the line, who may see and use what (own, listed, another account's
// unlisted, deleted), quoteDatasets and readDatasetDocuments as the fine-tune path calls them,
// tamper detection, and the content file's life. Every upload carries a marker that no response of
// any dataset route, and no log line, may contain.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { DatasetIntegrityError, quoteDatasets, readDatasetDocuments } from '../../../src/datasets/dataset-service.js';
import { AppError } from '../../../src/errors/app-error.js';
import { jobs } from '../../../src/jobs/jobs-schema.js';
import { connectRedis } from '../../../src/redis/connect-redis.js';
import { getGpt2Tokenizer } from '../../../src/runtime/gpt2-tokenizer.js';
import { createFundedAccount, REDIS_URL, registerTinyModel, type TestApp } from '../../helpers/test-app.js';
import { createTestDatabase } from '../../helpers/test-database.js';

/** In every upload; must never come back. */
const MARK = `quokka-${randomBytes(6).toString('hex')}-never-leaves`;
const LIMIT_BYTES = 65_536;
const MAX_DOCUMENTS = 50;

let t: TestApp;
const logLines: string[] = [];
const answers: string[] = [];
type Account = Awaited<ReturnType<typeof createFundedAccount>>;
let alice: Account;
let bob: Account;
let aliceNoScope: Account;

/** createTestApp's app, with a logger whose every line is kept (to look for the marker). */
async function createLoggedTestApp(): Promise<TestApp> {
  const testDb = await createTestDatabase();
  const prefix = `test:${randomBytes(6).toString('hex')}`;
  const operatorToken = `op_${randomBytes(24).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: testDb.url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    POSTHUMAN_OPERATOR_TOKEN: operatorToken,
    POSTHUMAN_DATA_DIR: `/tmp/posthuman-test-${prefix.replace(':', '-')}`,
    CHAIN: 'off',
    DATASET_UPLOAD_LIMIT_BYTES: String(LIMIT_BYTES),
    DATASET_MAX_DOCUMENTS: String(MAX_DOCUMENTS),
  });
  const redis = await connectRedis(REDIS_URL);
  const app = await buildApp({
    config,
    database: testDb.database,
    redis,
    operatorToken,
    checkResponseContract: true,
    logger: { level: 'trace', stream: { write: (line: string) => void logLines.push(line) } },
  });
  await app.ready();
  return {
    app,
    config,
    testDb,
    redis,
    operatorToken,
    operatorHeaders: { authorization: `Bearer ${operatorToken}` },
    async close() {
      await app.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      rmSync(config.dataDir, { recursive: true, force: true });
      await testDb.drop();
    },
  };
}

beforeAll(async () => {
  t = await createLoggedTestApp();
  alice = await createFundedAccount(t, { name: 'alice' });
  bob = await createFundedAccount(t, { name: 'bob' });
  aliceNoScope = await createFundedAccount(t, { name: 'alice without finetune', scopes: ['infer'] });
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

/** Every dataset-route answer goes through here, so the last test can look at all of them. */
async function call(options: InjectOptions): Promise<LightMyRequestResponse> {
  const res = await t.app.inject(options);
  answers.push(`${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`);
  return res;
}

function upload(headers: { authorization: string } | Record<string, never>, body: string | Buffer, contentType: string, query = 'name=d') {
  return call({ method: 'POST', url: `/v1/datasets?${query}`, headers: { ...headers, 'content-type': contentType }, payload: body });
}

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const tokens = (texts: string[]) => texts.reduce((n, s) => n + getGpt2Tokenizer().encode(s).length, 0);
const storePath = (sha: string) => join(t.config.dataDir, 'datasets', sha);

function expectProblem(res: LightMyRequestResponse, status: number, code: string, detail?: RegExp) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toContain('application/problem+json');
  const body = res.json();
  expect(body).toMatchObject({ status, code });
  if (detail) expect(body.detail).toMatch(detail);
  return body as { detail: string; field?: string };
}

async function uploaded(headers: { authorization: string }, text: string, query: string, type = 'text/plain') {
  const res = await upload(headers, text, type, query);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; sha256: string; [k: string]: unknown };
}

describe('POST /v1/datasets', () => {
  it('stores plain text by sha256 and counts its documents and tokens', async () => {
    const text = `The ${MARK} lives here.\n<|endoftext|>\nA second document, ${MARK}.\n`;
    const res = await upload(alice.headers, text, 'text/plain; charset=utf-8', 'name=notes&description=two%20docs&price_per_job=250');
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      object: 'dataset',
      name: 'notes',
      description: 'two docs',
      format: 'text',
      sha256: sha256(text),
      bytes: Buffer.byteLength(text),
      documents: 2,
      tokens: tokens([`The ${MARK} lives here.`, `A second document, ${MARK}.\n`]),
      price_per_job: 250,
      listed: false,
      owner_account_id: alice.account.id,
      owned_by_you: true,
      ocean: null,
      deleted_at: null,
    });
    expect(readFileSync(storePath(body.sha256), 'utf8')).toBe(text);
  });

  it('stores JSONL under both media types, one document per line', async () => {
    const jsonl = `{"text":"first ${MARK}"}\n\n{"text":"second","source":"ignored"}\r\n{"text":"third"}\n`;
    for (const type of ['application/jsonl', 'application/x-ndjson']) {
      const body = await uploaded(alice.headers, jsonl, 'name=lines', type);
      expect(body).toMatchObject({ format: 'jsonl', sha256: sha256(jsonl), documents: 3, tokens: tokens([`first ${MARK}`, 'second', 'third']) });
    }
  });

  it('refuses a bad JSONL line naming the line, never its content', async () => {
    const cases: Array<[string, RegExp]> = [
      [`{"text":"ok"}\n{"text": ${MARK}}`, /^line 2 is not valid JSON$/],
      [`{"text":"ok"}\n{"text":"ok"}\n["${MARK}"]`, /^line 3 is not a JSON object$/],
      [`{"content":"${MARK}"}`, /^line 1 has no string field "text"$/],
      [`{"text":"${MARK}"}\n{"text":""}`, /^line 2: "text" is empty$/],
    ];
    for (const [jsonl, detail] of cases) {
      const problem = expectProblem(await upload(alice.headers, jsonl, 'application/jsonl'), 400, 'validation_failed', detail);
      expect(problem.field).toBe('body');
    }
  });

  it('refuses invalid UTF-8, NUL characters, an empty body and text that is only whitespace', async () => {
    const notUtf8 = Buffer.concat([Buffer.from(`${MARK}\n`), Buffer.from([0xff, 0xfe, 0x00, 0x41])]);
    expectProblem(await upload(alice.headers, notUtf8, 'text/plain'), 400, 'validation_failed', /^line 2 is not valid UTF-8$/);
    expectProblem(await upload(alice.headers, `${MARK}\u0000`, 'text/plain'), 400, 'validation_failed', /NUL/);
    expectProblem(await upload(alice.headers, '', 'text/plain'), 400, 'validation_failed', /empty/);
    expectProblem(await upload(alice.headers, '', 'application/jsonl'), 400, 'validation_failed', /empty/);
    expectProblem(await upload(alice.headers, ' \n\t\n', 'text/plain'), 400, 'validation_failed', /no text/);
    expectProblem(await upload(alice.headers, '\n\n', 'application/x-ndjson'), 400, 'validation_failed', /no JSON lines/);
  });

  it('refuses more than the byte limit and more than the document limit (413)', async () => {
    expectProblem(await upload(alice.headers, `${MARK} `.repeat(LIMIT_BYTES / 8), 'text/plain'), 413, 'payload_too_large');
    const many = Array.from({ length: MAX_DOCUMENTS + 1 }, (_, i) => `{"text":"${MARK} ${i}"}`).join('\n');
    expectProblem(await upload(alice.headers, many, 'application/jsonl'), 413, 'payload_too_large', new RegExp(`more than ${MAX_DOCUMENTS} documents`));
  });

  it('refuses other media types, a bad query, no key, and a key without the finetune scope', async () => {
    expectProblem(await upload(alice.headers, JSON.stringify({ text: MARK }), 'application/json'), 415, 'unsupported_media_type');
    expectProblem(await upload(alice.headers, MARK, 'application/octet-stream'), 415, 'unsupported_media_type');
    expectProblem(await upload(alice.headers, MARK, 'text/plain', 'description=x'), 400, 'validation_failed');
    expectProblem(await upload(alice.headers, MARK, 'text/plain', 'name=x&price_per_job=-1'), 400, 'validation_failed');
    expectProblem(await upload(alice.headers, MARK, 'text/plain', 'name=x&listed=perhaps'), 400, 'validation_failed');
    expectProblem(await upload({}, MARK, 'text/plain'), 401, 'unauthorized');
    expectProblem(await upload(aliceNoScope.headers, MARK, 'text/plain'), 403, 'forbidden', /finetune/);
  });
});

describe('who sees and uses what', () => {
  let alicePrivate: { id: string; sha256: string };
  let aliceListed: { id: string; sha256: string };
  let bobPrivate: { id: string; sha256: string };

  beforeAll(async () => {
    alicePrivate = await uploaded(alice.headers, `private ${MARK}`, 'name=alice-private');
    aliceListed = await uploaded(alice.headers, `listed ${MARK}`, 'name=alice-listed&listed=true&price_per_job=7000');
    bobPrivate = await uploaded(bob.headers, `bob ${MARK}`, 'name=bob-private');
  });

  const list = async (headers: { authorization: string }, query = '') => {
    const res = await call({ method: 'GET', url: `/v1/datasets${query}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { data: Array<{ id: string; owner_account_id: string | null; owned_by_you: boolean }>; next_cursor: string | null };
  };

  it('lists your own datasets and the listed ones, never another account\'s unlisted ones', async () => {
    const seenByAlice = (await list(alice.headers, '?limit=200')).data.map((d) => d.id);
    expect(seenByAlice).toEqual(expect.arrayContaining([alicePrivate.id, aliceListed.id]));
    expect(seenByAlice).not.toContain(bobPrivate.id);
    const seenByBob = await list(bob.headers, '?limit=200');
    expect(seenByBob.data.map((d) => d.id).sort()).toEqual([aliceListed.id, bobPrivate.id].sort());
    // Bob sees Alice's listed dataset, but not whose it is.
    expect(seenByBob.data.find((d) => d.id === aliceListed.id)).toMatchObject({ owner_account_id: null, owned_by_you: false });
  });

  it('pages newest first with a cursor, each dataset once', async () => {
    const all = (await list(alice.headers, '?limit=200')).data.map((d) => d.id);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(alice.headers, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.data.length).toBeLessThanOrEqual(2);
      paged.push(...page.data.map((d) => d.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all);
    expectProblem(await call({ method: 'GET', url: '/v1/datasets?cursor=bm9wZQ', headers: alice.headers }), 400, 'validation_failed');
  });

  it('gets your own and listed datasets; another account\'s unlisted one is a 404 like a missing one', async () => {
    const get = (headers: { authorization: string }, id: string) => call({ method: 'GET', url: `/v1/datasets/${id}`, headers });
    expect((await get(alice.headers, alicePrivate.id)).json()).toMatchObject({ id: alicePrivate.id, owned_by_you: true });
    expect((await get(bob.headers, aliceListed.id)).json()).toMatchObject({ id: aliceListed.id, price_per_job: 7000, owner_account_id: null });
    const hidden = expectProblem(await get(bob.headers, alicePrivate.id), 404, 'dataset_not_found');
    const missing = expectProblem(await get(bob.headers, '00000000-0000-4000-8000-000000000000'), 404, 'dataset_not_found');
    expect(hidden.detail.replace(alicePrivate.id, 'ID')).toBe(missing.detail.replace('00000000-0000-4000-8000-000000000000', 'ID'));
    expectProblem(await get(bob.headers, 'not-a-uuid'), 400, 'validation_failed');
    expectProblem(await call({ method: 'GET', url: `/v1/datasets/${alicePrivate.id}` }), 401, 'unauthorized');
  });

  it('quotes usable datasets in the order asked, and refuses the first one that is not usable', async () => {
    const quoted = await quoteDatasets(t.app.db, alice.account.id, [aliceListed.id, alicePrivate.id, aliceListed.id]);
    expect(quoted.map((q) => q.id)).toEqual([aliceListed.id, alicePrivate.id, aliceListed.id]);
    expect(quoted[0]).toMatchObject({ ownerAccountId: alice.account.id, sha256: aliceListed.sha256, format: 'text', pricePerJob: 7000n });
    expect(quoted[1].tokens).toBe(tokens([`private ${MARK}`]));
    // Bob may use Alice's listed dataset, not her unlisted one.
    expect((await quoteDatasets(t.app.db, bob.account.id, [aliceListed.id, bobPrivate.id])).map((q) => q.ownerAccountId)).toEqual([
      alice.account.id,
      bob.account.id,
    ]);
    const refusedQuote = async (accountId: string, ids: string[]) => {
      const err = await quoteDatasets(t.app.db, accountId, ids).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AppError);
      return err as AppError;
    };
    const hidden = await refusedQuote(bob.account.id, [aliceListed.id, alicePrivate.id]);
    expect(hidden).toMatchObject({ code: 'dataset_not_found', status: 404, field: 'body.datasets[1]' });
    expect(await refusedQuote(bob.account.id, ['00000000-0000-4000-8000-000000000000'])).toMatchObject({ field: 'body.datasets[0]' });
    expect(await refusedQuote(bob.account.id, [bobPrivate.id, 'not-a-uuid'])).toMatchObject({ code: 'dataset_not_found', field: 'body.datasets[1]' });
    expect(await quoteDatasets(t.app.db, bob.account.id, [])).toEqual([]);
    // A body that mixes ids with inline texts names its own positions.
    const positions = [2, 5];
    await expect(quoteDatasets(t.app.db, bob.account.id, [bobPrivate.id, alicePrivate.id], (i) => `body.datasets[${positions[i]}]`)).rejects.toMatchObject({
      field: 'body.datasets[5]',
    });
  });

  it('lets only the owner delete; a deleted dataset is gone for listing, reading and new jobs', async () => {
    const del = (headers: { authorization: string }, id: string) => call({ method: 'DELETE', url: `/v1/datasets/${id}`, headers });
    expectProblem(await del(bob.headers, aliceListed.id), 403, 'forbidden');
    expectProblem(await del(bob.headers, alicePrivate.id), 404, 'dataset_not_found');
    expectProblem(await del(aliceNoScope.headers, aliceListed.id), 403, 'forbidden', /finetune/);
    const res = await del(alice.headers, aliceListed.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().deleted_at).toEqual(expect.any(String));
    expectProblem(await del(alice.headers, aliceListed.id), 404, 'dataset_not_found');
    expectProblem(await call({ method: 'GET', url: `/v1/datasets/${aliceListed.id}`, headers: bob.headers }), 404, 'dataset_not_found');
    expectProblem(await call({ method: 'GET', url: `/v1/datasets/${aliceListed.id}`, headers: alice.headers }), 404, 'dataset_not_found');
    expect((await list(bob.headers, '?limit=200')).data.map((d) => d.id)).not.toContain(aliceListed.id);
    for (const account of [alice, bob]) {
      await expect(quoteDatasets(t.app.db, account.account.id, [aliceListed.id])).rejects.toMatchObject({ code: 'dataset_not_found' });
    }
    expect(existsSync(storePath(aliceListed.sha256))).toBe(false);
  });
});

describe('the stored content', () => {
  it('reads back on the worker as the documents the upload counted', async () => {
    const jsonl = `{"text":"alpha ${MARK}"}\n{"text":"beta\\n<|endoftext|>\\ngamma"}\n`;
    const d = await uploaded(alice.headers, jsonl, 'name=worker', 'application/jsonl');
    expect(await readDatasetDocuments(t.config.dataDir, { sha256: d.sha256, format: 'jsonl' })).toEqual([`alpha ${MARK}`, 'beta\n<|endoftext|>\ngamma']);
    const text = `one ${MARK}\n<|endoftext|>\ntwo`;
    const p = await uploaded(alice.headers, text, 'name=worker-text');
    expect(await readDatasetDocuments(t.config.dataDir, { sha256: p.sha256, format: 'text' })).toEqual([`one ${MARK}`, 'two']);
  });

  it('detects a flipped byte, a missing file and a hash that is not one', async () => {
    const text = `tamper with ${MARK}`;
    const d = await uploaded(alice.headers, text, 'name=tamper');
    const bytes = readFileSync(storePath(d.sha256));
    bytes[3] ^= 0x01;
    writeFileSync(storePath(d.sha256), bytes);
    await expect(readDatasetDocuments(t.config.dataDir, { sha256: d.sha256, format: 'text' })).rejects.toThrow(DatasetIntegrityError);
    await expect(readDatasetDocuments(t.config.dataDir, { sha256: d.sha256, format: 'text' })).rejects.toThrow(/changed on disk/);
    // Uploading the same bytes again repairs the stored file.
    const again = await uploaded(alice.headers, text, 'name=tamper-again');
    expect(again.sha256).toBe(d.sha256);
    expect(await readDatasetDocuments(t.config.dataDir, { sha256: d.sha256, format: 'text' })).toEqual([text]);
    rmSync(storePath(d.sha256));
    await expect(readDatasetDocuments(t.config.dataDir, { sha256: d.sha256, format: 'text' })).rejects.toThrow(/not in the store/);
    await expect(readDatasetDocuments(t.config.dataDir, { sha256: '../../etc/passwd', format: 'text' })).rejects.toThrow(DatasetIntegrityError);
  });

  it('gives identical uploads their own rows and one file, removed when the last live row goes', async () => {
    const text = `shared bytes ${MARK}`;
    const first = await uploaded(alice.headers, text, 'name=copy-1');
    const second = await uploaded(alice.headers, text, 'name=copy-2');
    const bobs = await uploaded(bob.headers, text, 'name=bobs-copy');
    expect(new Set([first.id, second.id, bobs.id]).size).toBe(3);
    expect(new Set([first.sha256, second.sha256, bobs.sha256])).toEqual(new Set([sha256(text)]));
    const del = (headers: { authorization: string }, id: string) => call({ method: 'DELETE', url: `/v1/datasets/${id}`, headers });
    expect((await del(alice.headers, first.id)).statusCode).toBe(200);
    expect((await del(alice.headers, second.id)).statusCode).toBe(200);
    expect(existsSync(storePath(first.sha256))).toBe(true);
    expect(await readDatasetDocuments(t.config.dataDir, { sha256: bobs.sha256, format: 'text' })).toEqual([text]);
    expect((await del(bob.headers, bobs.id)).statusCode).toBe(200);
    expect(existsSync(storePath(first.sha256))).toBe(false);
  });

  it('keeps the content of a deleted dataset while an accepted fine-tune still needs it', async () => {
    const model = await registerTinyModel(t, 'tiny-for-datasets');
    const d = await uploaded(alice.headers, `training text ${MARK}`, 'name=in-use');
    const [job] = await t.app.db
      .insert(jobs)
      .values({
        kind: 'finetune',
        accountId: alice.account.id,
        modelId: model.id,
        weightsSha256: model.weightsSha256,
        request: { datasets: [{ id: d.id, sha256: d.sha256, format: 'text' }] },
        inputTokens: 0,
        pricePerJob: 0n,
        pricePer1kTokens: 0n,
        maxCost: 0n,
      })
      .returning();
    expect((await call({ method: 'DELETE', url: `/v1/datasets/${d.id}`, headers: alice.headers })).statusCode).toBe(200);
    expect(await readDatasetDocuments(t.config.dataDir, { sha256: d.sha256, format: 'text' })).toEqual([`training text ${MARK}`]);
    // Once the job is over, the next delete of a row with these bytes removes them.
    await t.app.db.update(jobs).set({ status: 'succeeded' }).where(eq(jobs.id, job.id));
    const copy = await uploaded(alice.headers, `training text ${MARK}`, 'name=in-use-copy');
    expect((await call({ method: 'DELETE', url: `/v1/datasets/${copy.id}`, headers: alice.headers })).statusCode).toBe(200);
    expect(existsSync(storePath(d.sha256))).toBe(false);
  });
});

describe('content never leaves', () => {
  it('appears in no answer of any dataset route, and in no log line', () => {
    expect(answers.length).toBeGreaterThan(40);
    expect(answers.filter((a) => a.includes(MARK))).toEqual([]);
    expect(logLines.length).toBeGreaterThan(40);
    expect(logLines.filter((l) => l.includes(MARK))).toEqual([]);
  });
});
