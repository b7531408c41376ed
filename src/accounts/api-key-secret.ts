// API key format and hashing: `ph_<prefix>_<secret>`; the prefix finds the row, only a hash is kept.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^ph_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  key: string;
  prefix: string;
  hash: string;
}

function base62(bytes: Buffer, length: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (const b of bytes) {
    if (out.length === length) break;
    // 248 = 4 * 62: reject the tail of the byte range so every character is equally likely.
    if (b < 248) out += alphabet[b % 62];
  }
  return out.length === length ? out : out + base62(randomBytes(length), length - out.length);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): NewApiKey {
  const prefix = base62(randomBytes(24), 12);
  const secret = randomBytes(32).toString('base64url');
  const key = `ph_${prefix}_${secret}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** Returns the prefix of a well-formed key, or null: malformed keys never reach the database. */
export function parseApiKey(key: string): { prefix: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match ? { prefix: match[1] } : null;
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time comparison of two secrets of any length (operator token). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
