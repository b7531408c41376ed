import { describe, expect, it } from 'vitest';
import { canonicalJson, inputSha256, outputSha256, sha256Hex } from '../../../src/receipts/canonical-json.js';

describe('canonical JSON', () => {
  it('sorts keys and drops whitespace (RFC 8785)', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1.5, y: 1e21 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":1e+21,"z":1.5}}');
  });

  it('turns bigints into decimal strings instead of throwing or losing digits', () => {
    expect(canonicalJson({ cost: 12_345_678_901_234_567_890n })).toBe('{"cost":"12345678901234567890"}');
  });

  it('hashes what the database stores: non-finite numbers as null, undefined members dropped', () => {
    const inMemory = { loss: Number.NaN, perplexity: Number.POSITIVE_INFINITY, extra: undefined, tokens: 3 };
    const stored = JSON.parse(JSON.stringify(inMemory));
    expect(outputSha256(inMemory)).toBe(outputSha256(stored));
  });

  it('hashes the input part only: parameters do not change the input digest, the text does', () => {
    const a = inputSha256('infer', { input: 'Hello', parameters: { seed: 1 } });
    expect(inputSha256('infer', { input: 'Hello', parameters: { seed: 2 } })).toBe(a);
    expect(inputSha256('infer', { input: 'Hello!' })).not.toBe(a);
    expect(a).toBe(sha256Hex('{"input":"Hello"}'));
    expect(inputSha256('evaluate', { texts: ['a', 'b'] })).toBe(sha256Hex('{"texts":["a","b"]}'));
  });

  it('refuses a request without the input its kind needs', () => {
    expect(() => inputSha256('infer', { texts: ['a'] })).toThrow(/input/);
    expect(() => inputSha256('evaluate', { input: 'a' })).toThrow(/texts/);
  });
});
