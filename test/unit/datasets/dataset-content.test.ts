// The dataset parser: what a document is in each format, and every refusal naming its line and
// never echoing the content.
import { describe, expect, it } from 'vitest';
import {
  DatasetContentError,
  decodeDatasetText,
  parseDatasetDocuments,
  parseJsonlDocuments,
  parseTextDocuments,
} from '../../../src/datasets/dataset-content.js';

const SECRET = 'okapi-nebula-41d2';
const bytes = (s: string) => Buffer.from(s, 'utf8');

function refusal(fn: () => unknown): DatasetContentError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetContentError);
    expect((err as Error).message).not.toContain(SECRET);
    return err as DatasetContentError;
  }
  throw new Error('expected a refusal');
}

describe('plain text', () => {
  it('is one document, kept verbatim', () => {
    expect(parseTextDocuments('  Hello,\nworld.\n')).toEqual(['  Hello,\nworld.\n']);
  });

  it('splits on lines that are exactly <|endoftext|>, the line breaks around them going with them', () => {
    expect(parseTextDocuments('one\n<|endoftext|>\ntwo\r\n<|endoftext|>\r\nthree\n')).toEqual(['one', 'two', 'three\n']);
    expect(parseTextDocuments('<|endoftext|>\na\n<|endoftext|>\n<|endoftext|>\n\n  \n<|endoftext|>\nb')).toEqual(['a', 'b']);
  });

  it('keeps <|endoftext|> that is not alone on its line inside the document', () => {
    expect(parseTextDocuments('a <|endoftext|> b\n <|endoftext|>\nc')).toEqual(['a <|endoftext|> b\n <|endoftext|>\nc']);
  });

  it('refuses text that is only whitespace or separators, and NUL characters naming the line', () => {
    expect(refusal(() => parseTextDocuments(' \n\t\n')).message).toMatch(/no text/);
    expect(refusal(() => parseTextDocuments('<|endoftext|>\n<|endoftext|>')).message).toMatch(/no text/);
    const nul = refusal(() => parseTextDocuments(`${SECRET}\n\nx\0y`));
    expect(nul.message).toBe('line 3 contains a NUL character (U+0000)');
    expect(nul.line).toBe(3);
  });
});

describe('JSONL', () => {
  it('takes each line\'s "text", skipping blank lines and ignoring other fields', () => {
    const text = '{"text":"first"}\r\n\n   \n{"text":"second\\nline","source":"x","n":1}\n{"text":" third "}\n';
    expect(parseJsonlDocuments(text)).toEqual(['first', 'second\nline', ' third ']);
  });

  it('refuses a bad line naming its number and what is wrong, never its content', () => {
    const cases: Array<[string, string]> = [
      [`{"text":"ok"}\n{"text":"${SECRET}"`, 'line 2 is not valid JSON'],
      [`{"text":"ok"}\n\n["${SECRET}"]`, 'line 3 is not a JSON object'],
      [`null`, 'line 1 is not a JSON object'],
      [`"${SECRET}"`, 'line 1 is not a JSON object'],
      [`{"body":"${SECRET}"}`, 'line 1 has no string field "text"'],
      [`{"text":42}`, 'line 1 has no string field "text"'],
      [`{"text":"ok"}\n{"text":"  "}`, 'line 2: "text" is empty'],
      [`{"text":"a\\u0000${SECRET}"}`, 'line 1: "text" contains a NUL character (U+0000)'],
      [`{"text":"\\ud800${SECRET}"}`, 'line 1: "text" contains a lone UTF-16 surrogate (not valid Unicode)'],
    ];
    for (const [input, message] of cases) expect(refusal(() => parseJsonlDocuments(input)).message).toBe(message);
  });

  it('refuses a file with no JSON line', () => {
    expect(refusal(() => parseJsonlDocuments('\n \n')).message).toMatch(/no JSON lines/);
  });
});

describe('bytes', () => {
  it('refuses empty bytes and invalid UTF-8 naming the first bad line', () => {
    expect(refusal(() => decodeDatasetText(new Uint8Array(0))).message).toBe('the dataset is empty');
    const bad = Buffer.concat([bytes(`${SECRET}\nok\n`), Buffer.from([0x61, 0xc3, 0x28]), bytes('\nmore')]);
    const err = refusal(() => decodeDatasetText(bad));
    expect(err.message).toBe('line 3 is not valid UTF-8');
    expect(refusal(() => decodeDatasetText(Buffer.from([0xed, 0xa0, 0x80]))).message).toBe('line 1 is not valid UTF-8');
  });

  it('drops a leading byte-order mark', () => {
    expect(parseDatasetDocuments(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes('{"text":"a"}')]), 'jsonl')).toEqual(['a']);
  });

  it('stops at the document limit', () => {
    const jsonl = Array.from({ length: 4 }, (_, i) => `{"text":"d${i}"}`).join('\n');
    expect(parseDatasetDocuments(bytes(jsonl), 'jsonl', { maxDocuments: 4 })).toHaveLength(4);
    const err = refusal(() => parseDatasetDocuments(bytes(jsonl), 'jsonl', { maxDocuments: 3 }));
    expect(err.problem).toBe('too_many_documents');
    const text = 'a\n<|endoftext|>\nb\n<|endoftext|>\nc';
    expect(refusal(() => parseDatasetDocuments(bytes(text), 'text', { maxDocuments: 2 })).problem).toBe('too_many_documents');
  });
});
