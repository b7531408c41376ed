import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../src/credits/ledger-history.js';

describe('ledger cursors', () => {
  it('round-trips entry ids, including ones above 2^53', () => {
    for (const id of [1n, 42n, 9_007_199_254_740_993n]) expect(decodeCursor(encodeCursor(id))).toBe(id);
  });

  it('rejects cursors it did not issue, naming the field', () => {
    for (const bad of ['', 'Zm9v', Buffer.from('e:-1').toString('base64url'), Buffer.from('e:1;drop').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'validation_failed', field: 'querystring.cursor' }));
    }
  });
});
