// Writes a Hugging Face `tokenizer.json` (byte-level BPE) for the GPT-2 vocabulary from js-tiktoken's
// ranks, so a built model folder looks like an Optimum export. The runtime itself tokenizes with js-tiktoken.
import { GPT2_END_OF_TEXT } from './gpt2-config.js';
import { END_OF_TEXT, gpt2TokenByteTable } from './gpt2-tokenizer.js';

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to code points from 256. */
function byteToUnicode(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCharCode(printable(b) ? b : 256 + next++);
  return map;
}

/** The two tokens BPE joins last to form `bytes`, using only merges ranked below `rank`. */
function lastMerge(raw: string, rank: number, ranks: Map<string, number>): [string, string] {
  // Fast path: usually exactly one split has both halves in the vocabulary below this rank.
  let only: [string, string] | undefined;
  let candidates = 0;
  for (let cut = 1; cut < raw.length && candidates < 2; cut++) {
    const left = ranks.get(raw.slice(0, cut));
    const right = ranks.get(raw.slice(cut));
    if (left !== undefined && right !== undefined && left < rank && right < rank) {
      candidates++;
      only = [raw.slice(0, cut), raw.slice(cut)];
    }
  }
  if (candidates === 1 && only) return only;
  let parts = Array.from(raw);
  while (parts.length > 2) {
    let best = -1;
    let bestRank = rank;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = ranks.get(parts[i] + parts[i + 1]);
      if (r !== undefined && r < bestRank) {
        best = i;
        bestRank = r;
      }
    }
    if (best < 0) throw new Error(`token ${rank} is not reachable by lower-ranked merges`);
    parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
  }
  return [parts[0], parts[1]];
}

let cachedJson: string | undefined;

/** The serialized tokenizer.json; it depends on no seed, so it is built once per process. */
export function gpt2TokenizerJsonText(): string {
  cachedJson ??= JSON.stringify(buildGpt2TokenizerJson());
  return cachedJson;
}

export function buildGpt2TokenizerJson(): Record<string, unknown> {
  const table = gpt2TokenByteTable();
  const unicode = byteToUnicode();
  const raws = table.map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
  const ranks = new Map<string, number>();
  for (let id = 0; id < GPT2_END_OF_TEXT; id++) ranks.set(raws[id], id);
  const show = (raw: string): string => {
    let out = '';
    for (let i = 0; i < raw.length; i++) out += unicode[raw.charCodeAt(i)];
    return out;
  };
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  for (let id = 0; id < GPT2_END_OF_TEXT; id++) {
    vocab[show(raws[id])] = id;
    if (raws[id].length > 1) {
      const [a, b] = lastMerge(raws[id], id, ranks);
      merges.push(`${show(a)} ${show(b)}`);
    }
  }
  vocab[END_OF_TEXT] = GPT2_END_OF_TEXT;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: GPT2_END_OF_TEXT, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
