// Reads and hashes ONNX weight files: a streaming sha256 for validation, and a read-then-hash of
// the exact bytes a session is built from, so the hash always describes what actually runs.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { WeightsMismatchError } from './runtime-errors.js';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws WeightsMismatchError unless `expected` is absent or equal (case-insensitive hex). */
export function verifyWeightsSha256(actual: string, expected: string | undefined): void {
  if (expected !== undefined && expected.toLowerCase() !== actual) throw new WeightsMismatchError(expected.toLowerCase(), actual);
}

/** The file's bytes and their sha256, verified against `expected` when given. */
export async function readVerifiedWeights(path: string, expected?: string): Promise<{ bytes: Uint8Array; sha256: string }> {
  const bytes = await readFile(path);
  const sha256 = sha256Bytes(bytes);
  verifyWeightsSha256(sha256, expected);
  return { bytes, sha256 };
}
