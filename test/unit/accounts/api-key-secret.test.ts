import { describe, expect, it } from 'vitest';
import { apiKeyMatches, generateApiKey, hashApiKey, parseApiKey, secretsEqual } from '../../../src/accounts/api-key-secret.js';

describe('API key secrets', () => {
  it('generates distinct, well-formed keys whose prefix parses back', () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(200);
    for (const k of keys) {
      expect(parseApiKey(k.key)).toEqual({ prefix: k.prefix });
      expect(k.hash).toBe(hashApiKey(k.key));
      expect(k.hash).not.toContain(k.key.slice(16));
    }
  });

  it('matches only the exact key', () => {
    const k = generateApiKey();
    expect(apiKeyMatches(k.key, k.hash)).toBe(true);
    expect(apiKeyMatches(`${k.key.slice(0, -1)}x`, k.hash)).toBe(false);
    expect(apiKeyMatches(k.key, 'deadbeef')).toBe(false);
  });

  it('refuses malformed keys before any lookup', () => {
    for (const bad of ['', 'ph_', 'Bearer x', 'ph_short_abc', `ph_${'a'.repeat(12)}_${'b'.repeat(10)}`]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });

  it('compares operator tokens of any length', () => {
    expect(secretsEqual('a'.repeat(40), 'a'.repeat(40))).toBe(true);
    expect(secretsEqual('a'.repeat(40), 'a'.repeat(41))).toBe(false);
    expect(secretsEqual('', 'a')).toBe(false);
  });
});
