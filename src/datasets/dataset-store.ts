// Content-addressed dataset files: <dataDir>/datasets/<sha256>, written to a temp file and renamed,
// so a half-written file is never visible under its hash. Only the worker reads them back.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class DatasetIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetIntegrityError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function datasetsDir(dataDir: string): string {
  return join(dataDir, 'datasets');
}

/** The content file of a hash; anything but 64 lowercase hex digits is refused (no path escapes). */
export function datasetPath(dataDir: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new DatasetIntegrityError('a dataset sha256 is 64 lowercase hex digits');
  return join(datasetsDir(dataDir), sha256);
}

async function hasFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * Stores bytes under their sha256. A file already there with the right hash is kept; one with the
 * wrong hash (a torn or tampered file) is replaced.
 */
export async function storeDatasetBytes(dataDir: string, bytes: Uint8Array, sha256: string): Promise<string> {
  const target = datasetPath(dataDir, sha256);
  if ((await hasFile(target)) && sha256Hex(await readFile(target)) === sha256) return target;
  await mkdir(datasetsDir(dataDir), { recursive: true });
  const temp = join(datasetsDir(dataDir), `.incoming-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return target;
}

/** The stored bytes, checked against their hash: a mismatch or a missing file throws DatasetIntegrityError. */
export async function readDatasetBytes(dataDir: string, sha256: string): Promise<Buffer> {
  const path = datasetPath(dataDir, sha256);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DatasetIntegrityError(`dataset content ${sha256} is not in the store`);
    throw err;
  }
  const actual = sha256Hex(bytes);
  if (actual !== sha256) throw new DatasetIntegrityError(`dataset content ${sha256} changed on disk (its sha256 is now ${actual})`);
  return bytes;
}

export async function removeDatasetBytes(dataDir: string, sha256: string): Promise<void> {
  await rm(datasetPath(dataDir, sha256), { force: true });
}
