// The archive extractor on its own: both folder layouts, and decompression counted against the
// limits (a small archive that inflates past them is refused without being written out).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_LIMITS, unpackModelArchive } from '../../../src/models/archive-extractor.js';
import { tarGz, type TarEntrySpec } from '../../helpers/hostile-models.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'archive-extractor-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const files = (prefix: string): TarEntrySpec[] => [
  { path: `${prefix}config.json`, data: '{"model_type":"gpt2"}' },
  { path: `${prefix}onnx/model.onnx`, data: 'onnx bytes' },
  { path: `${prefix}tokenizer_config.json`, data: '{}' },
];
const uploads = () => (existsSync(join(dataDir, 'uploads')) ? readdirSync(join(dataDir, 'uploads')) : []);

describe('unpackModelArchive', () => {
  it('unpacks a folder given as its contents or inside one top-level folder, keeping only what the runtime reads', async () => {
    for (const prefix of ['', './', 'exported-model/']) {
      const unpacked = await unpackModelArchive(tarGz(files(prefix)), dataDir);
      expect(readdirSync(unpacked.dir, { recursive: true }).map(String).sort(), prefix).toEqual(['config.json', 'onnx', 'onnx/model.onnx']);
      expect(readFileSync(join(unpacked.dir, 'onnx', 'model.onnx'), 'utf8')).toBe('onnx bytes');
      await unpacked.cleanup();
    }
    expect(uploads()).toEqual([]);
  });

  it('counts decompressed bytes: zero padding past the limit is refused before anything is written', async () => {
    const limits = { ...ARCHIVE_LIMITS, maxTotalBytes: 1024 * 1024 };
    const bomb = tarGz(files(''), { trailingZeros: 8 * 1024 * 1024 });
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(unpackModelArchive(bomb, dataDir, limits)).rejects.toMatchObject({ code: 'archive_too_large' });
    expect(uploads()).toEqual([]);
  });

  it('refuses two entries with the same path', async () => {
    const twice = tarGz([...files(''), { path: './config.json', data: '{}' }]);
    await expect(unpackModelArchive(twice, dataDir)).rejects.toMatchObject({ code: 'archive_entry_refused', message: expect.stringMatching(/appears twice/) });
    expect(uploads()).toEqual([]);
  });
});
