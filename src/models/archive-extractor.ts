// Unpacks an uploaded model archive (.tar.gz) into a fresh folder, refusing anything that is not a
// plain model folder before a byte is written. Pass 1 reads only headers, counting decompressed
// bytes, entries and declared sizes against ARCHIVE_LIMITS and checking every path and entry type;
// pass 2 writes just the files the runtime reads (MODEL_FOLDER_FILES). Every refusal is a 400.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, Parser, type ReadEntry } from 'tar';
import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-catalog.js';
import { DECODER_FILE_CANDIDATES, IGNORED_TOKENIZER_FILES, MODEL_CONFIG_FILES, MODEL_FOLDER_FILES } from '../runtime/model-folder.js';

const MiB = 1024 ** 2;

export const ARCHIVE_LIMITS = {
  /** Entries (files and folders) in the archive. */
  maxEntries: 32,
  /** Bytes of all entries together, uncompressed. */
  maxTotalBytes: 2 * 1024 * MiB,
  /** One decoder file: protobuf (and so single-file ONNX) stops at 2 GiB. */
  maxDecoderBytes: 2 * 1024 * MiB - 1,
  /** config.json / generation_config.json. */
  maxConfigBytes: 1 * MiB,
  /** Tokenizer files (accepted, then dropped). */
  maxTokenizerBytes: 32 * MiB,
} as const;

export type ArchiveLimits = typeof ARCHIVE_LIMITS;

const refuse = (code: ErrorCode, detail: string): AppError => new AppError(code, detail, { field: 'body' });

interface ScannedEntry {
  /** The path exactly as in the archive (what tar's filter sees in pass 2). */
  raw: string;
  /** Normalized: no `./` segments, no trailing slash. */
  path: string;
  kind: 'file' | 'dir';
  size: number;
}

function normalizeEntryPath(raw: string): string {
  if (raw.includes('\0') || raw.includes('\\')) throw refuse('archive_entry_refused', `entry "${raw}" has a backslash or NUL in its path`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw refuse('archive_entry_refused', `entry "${raw}" has an absolute path`);
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw refuse('archive_entry_refused', `entry "${raw}" has a ".." path segment`);
  return segments.join('/');
}

/** The size limit of a file, by its name (the same wherever the folder sits in the archive). */
function fileLimit(path: string, limits: ArchiveLimits): number {
  const name = path.split('/').pop() ?? '';
  if ((MODEL_CONFIG_FILES as readonly string[]).includes(name)) return limits.maxConfigBytes;
  if (IGNORED_TOKENIZER_FILES.includes(name)) return limits.maxTokenizerBytes;
  return limits.maxDecoderBytes;
}

/** Pass 1: every header, no bodies; throws the first refusal. */
async function scanArchive(archive: Buffer, limits: ArchiveLimits): Promise<ScannedEntry[]> {
  const entries: ScannedEntry[] = [];
  const seen = new Set<string>();
  let declaredBytes = 0;
  let failure: Error | undefined;
  const inspect = (entry: ReadEntry) => {
    if (failure) return;
    try {
      if (entries.length + 1 > limits.maxEntries) throw refuse('archive_too_many_entries', `the archive has more than ${limits.maxEntries} entries`);
      const path = normalizeEntryPath(entry.path);
      const kind = entry.type === 'File' || entry.type === 'OldFile' ? 'file' : entry.type === 'Directory' ? 'dir' : undefined;
      if (!kind) {
        const what = entry.type === 'SymbolicLink' ? 'a symbolic link' : entry.type === 'Link' ? 'a hard link' : `a ${entry.type} entry`;
        throw refuse('archive_entry_refused', `entry "${entry.path}" is ${what}; only regular files and folders are accepted`);
      }
      if (path !== '' && seen.has(path)) throw refuse('archive_entry_refused', `entry "${entry.path}" appears twice`);
      seen.add(path);
      const size = kind === 'file' ? (entry.size ?? 0) : 0;
      const limit = fileLimit(path, limits);
      if (size > limit) throw refuse('archive_file_too_large', `"${entry.path}" is ${size} bytes (limit ${limit})`);
      declaredBytes += size;
      if (declaredBytes > limits.maxTotalBytes) throw refuse('archive_too_large', `the archive unpacks to more than ${limits.maxTotalBytes} bytes`);
      entries.push({ raw: entry.path, path, kind, size });
    } catch (error) {
      failure = error as Error;
    }
  };
  const parser = new Parser({ strict: true, filter: () => false });
  parser.on('ignoredEntry', inspect);
  const parsed = new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('abort', reject);
    parser.on('end', resolve);
    parser.on('close', resolve);
  });
  parsed.catch(() => {}); // awaited below; a parse error must not surface as an unhandled rejection meanwhile
  // Headers, padding and the end-of-archive blocks on top of the declared bytes; more is a bomb.
  const maxDecompressed = limits.maxTotalBytes + (limits.maxEntries + 2) * 2048 + 1 * MiB;
  let decompressed = 0;
  try {
    for await (const chunk of Readable.from([archive]).pipe(createGunzip({ chunkSize: 1 << 20 })) as AsyncIterable<Buffer>) {
      decompressed += chunk.length;
      if (decompressed > maxDecompressed) throw refuse('archive_too_large', `the archive unpacks to more than ${limits.maxTotalBytes} bytes`);
      if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
      if (failure) break;
    }
    if (!failure) {
      parser.end();
      await parsed;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw refuse('archive_invalid', `the body is not a readable .tar.gz archive: ${(error as Error).message}`);
  }
  if (failure) throw failure;
  return entries;
}

/** Which files to keep: the archive is a model folder's contents, or one folder holding them. */
function planExtraction(entries: ScannedEntry[]): { prefix: string; keep: Map<string, string> } {
  const known = new Set([...MODEL_FOLDER_FILES, ...IGNORED_TOKENIZER_FILES]);
  const files = entries.filter((e) => e.kind === 'file');
  if (files.length === 0) throw refuse('archive_invalid', 'the archive holds no files');
  // One top-level folder holding everything is the folder itself (unless the files also read as a folder's contents).
  const top = files[0].path.split('/')[0];
  const nested = files.every((f) => f.path.startsWith(`${top}/`));
  const prefix = nested && !files.every((f) => known.has(f.path)) ? `${top}/` : '';
  const keep = new Map<string, string>();
  const relative = (p: string) => (prefix && (p === prefix.slice(0, -1) || p.startsWith(prefix)) ? p.slice(prefix.length) : p);
  for (const f of files) {
    const rel = relative(f.path);
    if (!known.has(rel)) {
      throw refuse('archive_unexpected_file', `"${f.raw}" is not part of a model folder; allowed: ${[...MODEL_FOLDER_FILES, ...IGNORED_TOKENIZER_FILES].join(', ')}`);
    }
    if (MODEL_FOLDER_FILES.includes(rel)) keep.set(f.raw, rel);
  }
  const decoders = [...keep.values()].filter((rel) => DECODER_FILE_CANDIDATES.includes(rel));
  if (decoders.length > 1) throw refuse('archive_unexpected_file', `the archive holds more than one decoder file (${decoders.join(', ')}); send one`);
  const folders = new Set([...keep.values(), ...files.map((f) => relative(f.path))].flatMap((rel) => ancestors(rel)));
  for (const d of entries.filter((e) => e.kind === 'dir')) {
    const rel = relative(d.path);
    if (d.path !== '' && d.path !== prefix.slice(0, -1) && !folders.has(rel)) {
      throw refuse('archive_unexpected_file', `folder "${d.raw}" is not part of a model folder`);
    }
  }
  return { prefix, keep };
}

function ancestors(rel: string): string[] {
  const parts = rel.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

export interface UnpackedArchive {
  /** The model folder: only MODEL_FOLDER_FILES that were in the archive. */
  dir: string;
  /** Removes the folder; safe to call more than once. */
  cleanup(): Promise<void>;
}

/**
 * Checks and unpacks `archive` under `<dataDir>/uploads/<random>`. On any refusal or error the
 * folder is removed before the error is thrown; on success the caller must call cleanup().
 */
export async function unpackModelArchive(archive: Buffer, dataDir: string, limits: ArchiveLimits = ARCHIVE_LIMITS): Promise<UnpackedArchive> {
  const entries = await scanArchive(archive, limits);
  const { prefix, keep } = planExtraction(entries);
  const dir = join(dataDir, 'uploads', randomBytes(8).toString('hex'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await mkdir(dir, { recursive: true });
    await pipeline(
      Readable.from([archive]),
      extract({
        cwd: dir,
        strict: true,
        strip: prefix ? 1 : 0,
        filter: (path) => keep.has(path),
        preserveOwner: false,
        noMtime: true,
      }),
    );
    // The archive is the same bytes pass 1 read; still, check that what landed is what was planned.
    for (const [raw, rel] of keep) {
      const st = await lstat(join(dir, rel));
      const planned = entries.find((e) => e.raw === raw);
      if (!st.isFile() || st.size !== planned?.size) throw refuse('archive_invalid', `"${raw}" did not unpack as planned`);
      await chmod(join(dir, rel), 0o644);
    }
    return { dir, cleanup };
  } catch (error) {
    await cleanup();
    if (error instanceof AppError) throw error;
    throw refuse('archive_invalid', `the archive could not be unpacked: ${(error as Error).message}`);
  }
}
