// RFC 8785's own examples (section 3.2.2 and 3.2.3), checked against the project's serialiser.
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/receipts/canonical-json.js';

describe('canonicalJson (RFC 8785)', () => {
  it('serialises numbers, strings and literals as the RFC example does', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units', () => {
    const input = { '€': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '😀': 'Emoji: Grinning Face', '\u0080': 'Control', 'ö': 'Latin Small Letter O With Diaeresis' };
    // (Object.keys would list "1" first whatever the text says, so read the names off the text.)
    const names = [...canonicalJson(input).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`));
    expect(names).toEqual(['\r', '1', '\u0080', 'ö', '€', '😀', '\ufb33']);
  });

  it('maps what JSON cannot hold: bigints to decimal strings, undefined members dropped, nested arrays kept', () => {
    expect(canonicalJson({ b: 2n ** 70n, a: [1, { z: undefined, y: null }], c: undefined })).toBe('{"a":[1,{"y":null}],"b":"1180591620717411303424"}');
  });
});
