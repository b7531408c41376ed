// POST /v1/models against hostile uploads: models that point outside themselves, archives that are
// not plain model folders, and two uploads racing for one id. Every refusal is a problem+json that
// stores nothing (no row, no weights folder) and leaves no upload folder behind.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type TarEntrySpec,
  tarGz,
  withExternalAttribute,
  withExternalInitializer,
  withExternalInSubgraph,
  withExternalSparseInitializer,
} from '../../helpers/hostile-models.js';
import { createFundedAccount, createTestApp, type TestApp } from '../../helpers/test-app.js';

let t: TestApp;
let publisher: Awaited<ReturnType<typeof createFundedAccount>>;
const tinyDir = inject('tinyModelDir');
const tiny = {
  config: readFileSync(join(tinyDir, 'config.json')),
  generation: readFileSync(join(tinyDir, 'generation_config.json')),
  onnx: new Uint8Array(readFileSync(join(tinyDir, 'onnx', 'model.onnx'))),
  tokenizer: readFileSync(join(tinyDir, 'tokenizer.json')),
};
const TINY_SHA256 = createHash('sha256').update(tiny.onnx).digest('hex');
/** Archive-level refusals happen before the model is read; a placeholder decoder keeps them cheap. */
const PLACEHOLDER = new TextEncoder().encode('not read: the archive is refused first');

beforeAll(async () => {
  t = await createTestApp();
  publisher = await createFundedAccount(t, { scopes: ['publish'] });
});
afterAll(async () => {
  expect(t.app.contractViolations).toEqual([]);
  await t?.close();
});

/** A model folder as tar entries, under `my-model/`, with `onnx` as its decoder and `extra` added. */
function folder(onnxBytes: Uint8Array = tiny.onnx, extra: TarEntrySpec[] = []): TarEntrySpec[] {
  return [
    { path: 'my-model/', type: '5' },
    { path: 'my-model/config.json', data: tiny.config },
    { path: 'my-model/generation_config.json', data: tiny.generation },
    { path: 'my-model/onnx/', type: '5' },
    { path: 'my-model/onnx/model.onnx', data: onnxBytes },
    ...extra,
  ];
}

const upload = (archive: Buffer, id: string, headers = publisher.headers) =>
  t.app.inject({
    method: 'POST',
    url: `/v1/models?id=${id}&price_per_job=1&price_per_1k_tokens=1`,
    headers: { ...headers, 'content-type': 'application/gzip' },
    payload: archive,
  });

const listDir = (path: string) => (existsSync(path) ? readdirSync(path) : []);
const weightsDir = () => join(t.config.dataDir, 'weights');
const uploadsDir = () => join(t.config.dataDir, 'uploads');

/** Uploads `archive` as `id` and checks the refusal: status, code, detail, nothing stored, nothing left. */
async function expectRefused(archive: Buffer, id: string, expected: { status?: number; code: string; detail: RegExp }) {
  const weightsBefore = listDir(weightsDir()).sort();
  const res = await upload(archive, id);
  expect(res.statusCode, res.body).toBe(expected.status ?? 400);
  expect(res.headers['content-type']).toContain('application/problem+json');
  const body = JSON.parse(res.body);
  expect(body).toMatchObject({ status: expected.status ?? 400, code: expected.code });
  expect(body.detail).toMatch(expected.detail);
  expect((await t.app.inject({ method: 'GET', url: `/v1/models/${id}` })).statusCode).toBe(404);
  expect(listDir(weightsDir()).sort()).toEqual(weightsBefore);
  expect(listDir(uploadsDir())).toEqual([]);
  return body;
}

describe('POST /v1/models: what is kept', () => {
  it('stores only the files the runtime reads, under a hash of all of them; tokenizer files are dropped', async () => {
    const res = await upload(tarGz(folder(tiny.onnx, [{ path: 'my-model/tokenizer.json', data: tiny.tokenizer }])), 'kept-files');
    expect(res.statusCode, res.body).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ id: 'kept-files', weights_sha256: TINY_SHA256, owner_account_id: publisher.account.id });
    const row = await t.app.modelRepository.find('kept-files');
    const stored = readdirSync(row!.storagePath, { recursive: true }).map(String).sort();
    expect(stored).toEqual(['config.json', 'generation_config.json', 'onnx', 'onnx/model.onnx']);
    // The folder's name is the sha256 of a sha256sum-style manifest of every kept file.
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const manifest = `${sha(tiny.config)}  config.json\n${sha(tiny.generation)}  generation_config.json\n${TINY_SHA256}  onnx/model.onnx\n`;
    expect(row!.storagePath).toBe(join(weightsDir(), sha(Buffer.from(manifest))));
    expect(listDir(uploadsDir())).toEqual([]);
  });
});

describe('POST /v1/models: models that reach outside themselves', () => {
  it('refuses an initializer stored as external data next to a dummy .posthuman/operator-token', async () => {
    const hostile = withExternalInitializer(tiny.onnx, '.posthuman/operator-token');
    const archive = tarGz(folder(hostile, [{ path: 'my-model/.posthuman/operator-token', data: 'x'.repeat(4096) }]));
    await expectRefused(archive, 'steal-token', { code: 'archive_unexpected_file', detail: /operator-token" is not part of a model folder/ });
  });

  it('refuses external data even when it names a file the folder really holds (config.json)', async () => {
    // Validating from the folder would have loaded this; the worker (loading from bytes) would read its own cwd.
    const body = await expectRefused(tarGz(folder(withExternalInitializer(tiny.onnx, 'config.json'))), 'ext-init', {
      code: 'model_rejected',
      detail: /external data \(location "config\.json"\)/,
    });
    expect(body.detail).toContain('initializers');
  });

  it('refuses external data in a node attribute, a subgraph and a sparse initializer', async () => {
    const location = '.posthuman/keys/signing.jwk';
    await expectRefused(tarGz(folder(withExternalAttribute(tiny.onnx, location))), 'ext-attr', {
      code: 'model_rejected',
      detail: /attribute "value" is stored as external data/,
    });
    await expectRefused(tarGz(folder(withExternalInSubgraph(tiny.onnx, location))), 'ext-subgraph', {
      code: 'model_rejected',
      detail: /subgraph .*external data/,
    });
    await expectRefused(tarGz(folder(withExternalSparseInitializer(tiny.onnx, '../weights/other/onnx/model.onnx'))), 'ext-sparse', {
      code: 'model_rejected',
      detail: /sparse values.*external data/,
    });
  });
});

describe('POST /v1/models: archives that are not plain model folders', () => {
  it('refuses links, devices, absolute and ".." paths', async () => {
    const cases: Array<[string, TarEntrySpec, RegExp]> = [
      ['symlink', { path: 'my-model/onnx/model.onnx_data', type: '2', linkTarget: '/work/.posthuman/operator-token' }, /symbolic link/],
      ['hardlink', { path: 'my-model/tokenizer.json', type: '1', linkTarget: 'my-model/config.json' }, /hard link/],
      ['device', { path: 'my-model/tokenizer.json', type: '3' }, /CharacterDevice/],
      ['dotdot', { path: 'my-model/../../../.posthuman/operator-token', data: 'x' }, /".." path segment/],
      ['absolute', { path: '/tmp/posthuman-escape', data: 'x' }, /absolute path/],
    ];
    for (const [name, entry, detail] of cases) {
      await expectRefused(tarGz(folder(PLACEHOLDER, [entry])), `entry-${name}`, { code: 'archive_entry_refused', detail });
    }
    expect(existsSync('/tmp/posthuman-escape')).toBe(false);
  });

  it('refuses a file the runtime does not read, and a second decoder', async () => {
    await expectRefused(tarGz(folder(PLACEHOLDER, [{ path: 'my-model/notes.txt', data: 'hi' }])), 'extra-file', {
      code: 'archive_unexpected_file',
      detail: /"my-model\/notes\.txt" is not part of a model folder/,
    });
    await expectRefused(tarGz(folder(PLACEHOLDER, [{ path: 'my-model/model.onnx', data: PLACEHOLDER }])), 'two-decoders', {
      code: 'archive_unexpected_file',
      detail: /more than one decoder file/,
    });
  });

  it('stops counting at the entry, single-file and total limits', async () => {
    const many = Array.from({ length: 40 }, (_, i): TarEntrySpec => ({ path: `my-model/onnx/d${i}/`, type: '5' }));
    await expectRefused(tarGz(folder(PLACEHOLDER, many)), 'many-entries', { code: 'archive_too_many_entries', detail: /more than 32 entries/ });
    // Sizes are refused from the headers, before any of the claimed bytes are read (none follow).
    const bigConfig = tarGz([{ path: 'config.json', declaredSize: 2 * 1024 * 1024 }], { end: false });
    await expectRefused(bigConfig, 'big-config', { code: 'archive_file_too_large', detail: /"config\.json" is 2097152 bytes \(limit 1048576\)/ });
    const hugeDecoder = tarGz([{ path: 'onnx/model.onnx', declaredSize: 3 * 1024 ** 3 }], { end: false });
    await expectRefused(hugeDecoder, 'huge-decoder', { code: 'archive_file_too_large', detail: /limit 2147483647/ });
    const total = tarGz([{ path: 'config.json', data: tiny.config }, { path: 'onnx/model.onnx', declaredSize: 2 * 1024 ** 3 - 1 }], { end: false });
    await expectRefused(total, 'too-large', { code: 'archive_too_large', detail: /unpacks to more than 2147483648 bytes/ });
  });

  it('answers a body that is not a .tar.gz with archive_invalid', async () => {
    await expectRefused(Buffer.from('not a tarball'), 'junk', { code: 'archive_invalid', detail: /not a readable \.tar\.gz/ });
  });
});

describe('POST /v1/models: model ids', () => {
  it('gives one of two concurrent uploads of an id a 201 and the other a 409; a later upload never replaces it', async () => {
    const archive = tarGz(folder());
    const results = await Promise.all([upload(archive, 'race'), upload(archive, 'race')]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const loser = JSON.parse(results.find((r) => r.statusCode === 409)!.body);
    expect(loser).toMatchObject({ status: 409, code: 'model_exists', field: 'id' });

    const other = await createFundedAccount(t, { scopes: ['publish'] });
    const before = await t.app.modelRepository.find('race');
    const different = tarGz(folder(tiny.onnx, [{ path: 'my-model/tokenizer.json', data: tiny.tokenizer }]));
    for (const headers of [other.headers, publisher.headers]) {
      const res = await upload(different, 'race', headers);
      expect(res.statusCode).toBe(409);
      expect(JSON.parse(res.body).code).toBe('model_exists');
    }
    const after = await t.app.modelRepository.find('race');
    expect(after).toEqual(before);
    expect(after!.ownerAccountId).toBe(publisher.account.id);
    expect(listDir(uploadsDir())).toEqual([]);
  });

  it('needs the publish scope, which keys do not get by default', async () => {
    const plain = await createFundedAccount(t);
    const res = await upload(tarGz(folder()), 'no-scope', plain.headers);
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body).detail).toContain('"publish" scope');
  });
});
