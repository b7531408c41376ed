// Parses an uploaded dataset into its documents, refusing anything that is not plain training text.
// Errors name the line and what is wrong, never the line's content: no message may echo a dataset.
//
// - text: UTF-8 text. One document, unless some lines are exactly `<|endoftext|>` (a trailing \r
//   allowed): then the documents are the pieces between those lines (the line breaks around a
//   separator belong to it), and pieces that are empty or only whitespace are dropped.
// - jsonl: one JSON object per line with a string field `text` (other fields are ignored); lines
//   that are empty or only whitespace are skipped; each `text` is one document.
import { isUtf8 } from 'node:buffer';
import type { DatasetFormat } from './datasets-schema.js';

export type DatasetContentProblem = 'invalid' | 'too_many_documents';

export class DatasetContentError extends Error {
  constructor(
    message: string,
    readonly problem: DatasetContentProblem = 'invalid',
    /** 1-based line the problem is on, when it is on one. */
    readonly line?: number,
  ) {
    super(message);
    this.name = 'DatasetContentError';
  }
}

export interface ParseOptions {
  /** More documents than this is an error (checked while parsing, so a huge file stops early). */
  maxDocuments?: number;
}

const SEPARATOR_LINE = /(?:\r?\n)?^<\|endoftext\|>\r?$(?:\n)?/m;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BLANK = /^[ \t\r]*$/;

/** Text no document may hold: NUL (a binary file, or text no tool downstream keeps) and lone surrogates. */
function textFlaw(text: string): string | undefined {
  if (text.includes('\0')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/** 1-based line of a string offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The bytes as text; invalid UTF-8 is refused naming the first line that holds it. A leading BOM is dropped. */
export function decodeDatasetText(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DatasetContentError('the dataset is empty');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isUtf8(buf)) {
    let line = 1;
    let start = 0;
    for (;;) {
      const end = buf.indexOf(0x0a, start);
      if (!isUtf8(buf.subarray(start, end === -1 ? buf.length : end))) break;
      if (end === -1) break;
      line++;
      start = end + 1;
    }
    throw new DatasetContentError(`line ${line} is not valid UTF-8`, 'invalid', line);
  }
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function checkCount(count: number, options: ParseOptions) {
  const max = options.maxDocuments ?? Number.POSITIVE_INFINITY;
  if (count > max) throw new DatasetContentError(`the dataset holds more than ${max} documents (the limit)`, 'too_many_documents');
}

/** Documents of a plain-text dataset (see the module comment). */
export function parseTextDocuments(text: string, options: ParseOptions = {}): string[] {
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    const line = lineAt(text, nul);
    throw new DatasetContentError(`line ${line} contains a NUL character (U+0000)`, 'invalid', line);
  }
  const documents: string[] = [];
  for (const piece of text.split(SEPARATOR_LINE)) {
    if (/^\s*$/.test(piece)) continue;
    documents.push(piece);
    checkCount(documents.length, options);
  }
  if (documents.length === 0) throw new DatasetContentError('the dataset holds no text (only whitespace or separators)');
  return documents;
}

/** Documents of a JSONL dataset: each line's `text` (see the module comment). */
export function parseJsonlDocuments(text: string, options: ParseOptions = {}): string[] {
  const documents: string[] = [];
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const raw = text.slice(start, end === -1 ? text.length : end);
    start = end === -1 ? text.length + 1 : end + 1;
    line++;
    if (BLANK.test(raw)) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      // JSON.parse's message quotes the input: never pass it on.
      throw new DatasetContentError(`line ${line} is not valid JSON`, 'invalid', line);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DatasetContentError(`line ${line} is not a JSON object`, 'invalid', line);
    }
    const doc = (value as { text?: unknown }).text;
    if (typeof doc !== 'string') throw new DatasetContentError(`line ${line} has no string field "text"`, 'invalid', line);
    if (doc.trim() === '') throw new DatasetContentError(`line ${line}: "text" is empty`, 'invalid', line);
    const flaw = textFlaw(doc);
    if (flaw) throw new DatasetContentError(`line ${line}: "text" ${flaw}`, 'invalid', line);
    documents.push(doc);
    checkCount(documents.length, options);
  }
  if (documents.length === 0) throw new DatasetContentError('the dataset holds no JSON lines');
  return documents;
}

/** Decodes and parses stored or uploaded bytes into documents. */
export function parseDatasetDocuments(bytes: Uint8Array, format: DatasetFormat, options: ParseOptions = {}): string[] {
  const text = decodeDatasetText(bytes);
  return format === 'jsonl' ? parseJsonlDocuments(text, options) : parseTextDocuments(text, options);
}
