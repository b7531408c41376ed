// Derives malformed requests from openapi/openapi.json for every operation (wrong types, missing and
// unknown fields, 1 MB strings, 1e309, 2^63, NUL, lone surrogates, bad UTF-8, bad JSON, wrong content
// types, bad ids and cursors) and checks each answer: never a 5xx, and every error is problem+json.
// Seeded, so a failure replays; FUZZ_ITERATIONS (see `npm run fuzz`) runs it longer.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedAccount, createTestApp, registerTinyModel, type TestApp } from '../../helpers/test-app.js';

type Schema = {
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  $ref?: string;
};
type Parameter = { in: 'path' | 'query' | 'header'; name: string; schema: Schema; required?: boolean };
type Operation = {
  operationId: string;
  security?: Record<string, unknown>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
  responses: Record<string, unknown>;
};
type Op = Operation & { method: string; path: string };

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_601);
/** Operations that run jobs or write keys and files: fewer cases, so the default run stays short. */
const SLOW = new Set(['infer', 'evaluate', 'rotateGatewayKey', 'publishModel', 'publishModelFromPath', 'requestAudit', 'openaiCreateCompletion', 'openaiCreateChatCompletion']);

const doc = JSON.parse(readFileSync(new URL('../../../openapi/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const operations: Op[] = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ ...op, method: method.toUpperCase(), path })),
);

/** mulberry32: a small seeded generator, so every run sends the same requests. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
type Random = ReturnType<typeof seeded>;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

const PATTERN_SAMPLES = ['tiny-gpt2', '1', '0.5', 'ab'.repeat(32), 'fuzz-model-1'];

/** A value the schema accepts (close enough: the point is to reach validation of the other fields). */
function sample(schema: Schema | undefined, random: Random, field = ''): unknown {
  if (!schema) return undefined;
  if (schema.$ref) return sample(doc.components.schemas[schema.$ref.split('/').pop() as string], random, field);
  if (schema.anyOf) return sample(schema.anyOf[0], random, field);
  if (schema.enum) return pick(random, schema.enum);
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(name) || random() < 0.5) out[name] = sample(prop, random, name);
      }
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => sample(schema.items, random, field));
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, Math.min(schema.maximum ?? 10, 1));
    case 'boolean':
      return false;
    case 'string': {
      if (schema.format === 'uuid') return uuid(random);
      if (schema.pattern) return PATTERN_SAMPLES.find((s) => new RegExp(schema.pattern as string).test(s)) ?? 'x';
      if (field === 'model') return 'tiny-gpt2';
      if (field === 'input' || field === 'text') return 'The sea is long';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    }
    default:
      return 'x';
  }
}

// Raw JSON numbers JSON.stringify cannot write: a placeholder string is swapped for the raw text.
const RAW = (text: string) => `\u0001raw:${text}\u0001`;
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  -0,
  RAW('1e309'),
  RAW('-1e309'),
  RAW('9223372036854775808'),
  RAW('18446744073709551616'),
  RAW('1e-400'),
  '',
  '1e309',
  '9223372036854775808',
  'a\u0000b',
  '\u0000',
  '\ud800',
  'x\udfffy',
  '💥'.repeat(50),
  'x'.repeat(1_000_000),
  'x'.repeat(70_000),
  '../../etc/passwd',
  '<|endoftext|>',
  [],
  [null],
  {},
  { nested: { deeper: ['\u0000'] } },
];

function toJson(value: unknown): string {
  return (JSON.stringify(value) ?? "null").replace(/"\\u0001raw:([^"\\]*)\\u0001"/g, '$1');
}

/** Replaces one property (at any depth) of a sampled body with `value`, or deletes it. */
function mutateBody(body: unknown, random: Random, value: unknown, remove: boolean): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return value;
  const copy = { ...(body as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return remove ? copy : { ...copy, unknown_field: value };
  const key = pick(random, keys);
  const child = copy[key];
  if (child && typeof child === 'object' && !Array.isArray(child) && random() < 0.5) copy[key] = mutateBody(child, random, value, remove);
  else if (remove) delete copy[key];
  else copy[key] = value;
  return copy;
}

const QUERY_VALUES = [
  '1e309',
  '9223372036854775808',
  '-1',
  '0',
  '1.5',
  'abc',
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%FF%FE',
  '%zz',
  '%',
  'x'.repeat(5000),
  '',
  Buffer.from('e:9999999999999999999').toString('base64url'),
  Buffer.from('e:0').toString('base64url'),
  Buffer.from('+275760-09-13T00:00:00.000Z|00000000-0000-4000-a000-000000000000').toString('base64url'),
  Buffer.from('9999-12-31T23:59:59.999Z|00000000-0000-4000-a000-000000000000|junk').toString('base64url'),
  Buffer.from('2024-02-30T00:00:00.000Z|------------------------------------').toString('base64url'),
  Buffer.from('\u0000|\ud800').toString('base64url'),
];
const PATH_VALUES = ['not-a-uuid', 'x'.repeat(150), '%00', 'a%00b', '%ED%A0%80', '..', '%2F', '%E2%82%AC', '00000000-0000-0000-0000-00000000000g', ' ', '%20'];
const CONTENT_TYPES = ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'application/octet-stream'];
const RAW_BODIES = ['{', '{"a":', '[', 'nul', '"\\ud800"', '{"a":"\\u0000"}', '{"__proto__":{"x":1}}', `${'['.repeat(50_000)}${']'.repeat(50_000)}`, ' ', '1e309'];

interface FuzzRequest {
  kind: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

function buildRequest(op: Op, random: Random, auth: (op: Op) => Record<string, string>, realIds: Record<string, string>): FuzzRequest {
  const headers: Record<string, string> = { ...auth(op) };
  if (op.operationId === 'infer' || op.operationId === 'evaluate') headers.prefer = 'respond-async';
  const kinds: string[] = [];
  let path = op.path;
  for (const p of (op.parameters ?? []).filter((x) => x.in === 'path')) {
    let value = realIds[p.name] && random() < 0.3 ? realIds[p.name] : encodeURIComponent(String(sample(p.schema, random)));
    if (random() < 0.4) {
      value = pick(random, PATH_VALUES);
      kinds.push(`path ${p.name}=${value.slice(0, 20)}`);
    }
    path = path.replace(`{${p.name}}`, value);
  }
  const query: string[] = [];
  for (const p of (op.parameters ?? []).filter((x) => x.in === 'query')) {
    if (!p.required && random() < 0.3) continue;
    let value = encodeURIComponent(String(sample(p.schema, random)));
    if (random() < 0.5) {
      value = pick(random, QUERY_VALUES);
      kinds.push(`query ${p.name}=${value.slice(0, 30)}`);
    }
    query.push(`${p.name}=${value}`);
    if (random() < 0.05) query.push(`${p.name}=${value}`); // repeated: arrives as an array
  }
  if (random() < 0.1) {
    query.push('unknown=1');
    kinds.push('unknown query');
  }
  for (const p of (op.parameters ?? []).filter((x) => x.in === 'header')) {
    if (random() < 0.3) {
      headers[p.name] = pick(random, ['', 'x'.repeat(300), '\t', 'k'.repeat(255), 'respond-async, wait=1']);
      kinds.push(`header ${p.name}`);
    }
  }
  if (random() < 0.05) {
    delete headers.authorization;
    kinds.push('no auth');
  }
  let payload: string | Buffer | undefined;
  const content = op.requestBody?.content ?? {};
  if (content['application/json']) {
    headers['content-type'] = 'application/json';
    const body = sample(content['application/json'].schema, random);
    const roll = random();
    if (roll < 0.45) {
      const value = pick(random, HOSTILE_VALUES);
      payload = toJson(mutateBody(body, random, value, false));
      kinds.push(`field=${toJson(value).slice(0, 30)}`);
    } else if (roll < 0.55) {
      payload = toJson(mutateBody(body, random, undefined, true));
      kinds.push('missing field');
    } else if (roll < 0.62) {
      payload = toJson({ ...(body as object), unknown_field: 1 });
      kinds.push('unknown field');
    } else if (roll < 0.72) {
      payload = pick(random, RAW_BODIES);
      kinds.push(`raw body ${payload.slice(0, 20)}`);
    } else if (roll < 0.8) {
      headers['content-type'] = pick(random, CONTENT_TYPES);
      payload = toJson(body);
      kinds.push(`content-type ${headers['content-type']}`);
    } else if (roll < 0.86) {
      payload = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
      kinds.push('bad utf-8');
    } else if (roll < 0.9) {
      payload = toJson(pick(random, [null, [], 'text', 42, true]));
      kinds.push(`body ${payload}`);
    } else if (roll < 0.93) {
      payload = toJson({ pad: 'x'.repeat(1_100_000) });
      kinds.push('over the body limit');
    } else {
      payload = toJson(body);
      kinds.push('sampled body');
    }
  } else if (Object.keys(content).length > 0) {
    // An upload (gzip archive): junk bytes, an empty body, or the wrong type.
    headers['content-type'] = random() < 0.8 ? Object.keys(content)[0] : 'application/json';
    payload = pick(random, [Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]), Buffer.alloc(0), Buffer.from('not gzip'), Buffer.alloc(4096, 7)]);
    kinds.push(`upload ${headers['content-type']} ${payload.length}B`);
  } else if (random() < 0.2) {
    headers['content-type'] = pick(random, ['application/json', 'text/plain']);
    payload = pick(random, ['{}', '{"x":1}', 'hello', '']);
    kinds.push(`unexpected body ${headers['content-type']}`);
  }
  const url = query.length ? `${path}?${query.join('&')}` : path;
  return { kind: kinds.join('; ') || 'sampled', method: op.method, url, headers, payload };
}

/** Why an answer breaks the contract, or undefined when it keeps it. */
function breach(op: Op, status: number, contentType: string | undefined, body: string): string | undefined {
  // A 503 the operation documents is an answer (e.g. anchoring with CHAIN=off), not a crash.
  if (status >= 500 && !(status === 503 && '503' in op.responses)) return `status ${status}`;
  if (status < 400) return undefined;
  // The OpenAI-compatible routes answer errors in OpenAI's shape instead.
  if (op.path.startsWith('/openai/')) {
    if (!contentType?.startsWith('application/json')) return `content-type ${contentType}`;
    const error = (JSON.parse(body) as { error?: Record<string, unknown> }).error;
    return typeof error?.message === 'string' && typeof error.type === 'string' ? undefined : 'not an OpenAI error body';
  }
  if (!contentType?.startsWith('application/problem+json')) return `content-type ${contentType}`;
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  for (const key of ['type', 'title', 'status', 'detail', 'code', 'requestId']) if (!(key in problem)) return `no ${key} in body`;
  if (problem.status !== status) return `body status ${problem.status} != ${status}`;
  return undefined;
}

let t: TestApp;
let keyHeaders: Record<string, string>;
const realIds: Record<string, string> = {};

beforeAll(async () => {
  // The worker runs in this process, so job requests get past the live-worker check to validation.
  t = await createTestApp({ WORKER_IN_PROCESS: 'true', PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000' });
  await registerTinyModel(t);
  const funded = await createFundedAccount(t, {
    name: 'fuzz',
    credits: 50_000_000,
    scopes: ['infer', 'evaluate', 'finetune', 'publish', 'keys'],
    rateLimitPerMinute: 1_000_000,
  });
  keyHeaders = funded.headers;
  realIds.id = funded.account.id;
});
afterAll(async () => {
  // Every status sent is one its operation declares in the OpenAPI document.
  expect([...new Set(t.app.contractViolations)]).toEqual([]);
  await t?.close();
});

function authFor(op: Op): Record<string, string> {
  const scheme = Object.keys(op.security?.[0] ?? {})[0];
  if (scheme === 'operatorToken') return { ...t.operatorHeaders };
  if (scheme === 'apiKey') return { ...keyHeaders };
  return {};
}

describe('OpenAPI-derived fuzzing', () => {
  it('covers every operation in the document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(25);
    expect(operations.every((op) => op.operationId)).toBe(true);
  });

  it('never answers 5xx, and answers every error as problem+json', async () => {
    const random = seeded(SEED);
    const failures: string[] = [];
    let sent = 0;
    for (const op of operations) {
      const count = SLOW.has(op.operationId) ? Math.max(4, Math.ceil(ITERATIONS / 5)) : ITERATIONS;
      for (let i = 0; i < count; i++) {
        const req = buildRequest(op, random, authFor, realIds);
        const res = await t.app.inject({
          method: req.method as 'GET',
          url: req.url,
          headers: req.headers,
          ...(req.payload !== undefined ? { payload: req.payload } : {}),
        });
        sent++;
        const why = breach(op, res.statusCode, res.headers['content-type'] as string | undefined, res.body);
        if (why) failures.push(`${op.operationId} ${req.method} ${req.url.slice(0, 120)} [${req.kind}] → ${why}: ${res.body.slice(0, 200)}`);
      }
    }
    expect(sent).toBeGreaterThan(operations.length * 4);
    expect(failures).toEqual([]);
  });

  it('answers concurrent key rotations with 200 or 409, never a 5xx', async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => t.app.inject({ method: 'POST', url: '/v1/admin/keys/rotate', headers: t.operatorHeaders })),
    );
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(statuses).toContain(200);
    for (const a of answers.filter((x) => x.statusCode === 409)) expect(a.json()).toMatchObject({ code: 'rotation_in_progress' });
  });
});

/** Sends raw bytes and reads the whole answer (the server closes after an error). */
function rawRequest(port: number, text: string | Buffer): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = answer.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: rest.join('\r\n\r\n') });
    });
    socket.end(text);
  });
}

describe('errors answered before routing, over a real socket', () => {
  let port: number;
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });

  const cases: [string, () => string, number][] = [
    ['an over-long path parameter (414)', () => `GET /v1/jobs/${'a'.repeat(500)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 414],
    ['headers over the size limit (431)', () => `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, 431],
    ['a URL over the header limit (431)', () => `GET /v1/jobs?cursor=${'c'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 431],
    ['malformed percent-encoding in the path (400)', () => 'GET /v1/jobs/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['a broken request line (400)', () => 'THIS IS NOT HTTP\r\n\r\n', 400],
    ['a header with a NUL byte (400)', () => 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 400],
    ['an unknown route (404)', () => 'GET /v1/nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
    ['an unknown method on a known path (404)', () => 'PATCH /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
  ];
  for (const [name, request, status] of cases) {
    it(`answers ${name} as problem+json`, async () => {
      const res = await rawRequest(port, request());
      expect(res.status).toBe(status);
      expect(res.headers).toContain('content-type: application/problem+json');
      expect(JSON.parse(res.body)).toMatchObject({ status, requestId: expect.any(String), type: expect.any(String) });
    });
  }
});
