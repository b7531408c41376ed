import { describe, expect, it } from 'vitest';
import { parsePrefer, preferredWait } from '../../../src/http/prefer.js';

const options = { defaultMs: 30_000, maxMs: 600_000 };

describe('Prefer (RFC 7240)', () => {
  it('reads respond-async and wait=N from one or several header values, ignoring the rest', () => {
    expect(parsePrefer(undefined)).toEqual({ respondAsync: false });
    expect(parsePrefer('respond-async, wait=10')).toEqual({ respondAsync: true, waitSeconds: 10 });
    expect(parsePrefer(['handling=lenient', 'WAIT="7"; foo=bar'])).toEqual({ respondAsync: false, waitSeconds: 7 });
    expect(parsePrefer('wait=-1, wait=1.5, wait=abc, respond-async=yes')).toEqual({ respondAsync: false });
    expect(parsePrefer('wait=3, wait=9').waitSeconds).toBe(3);
  });

  it('waits the default, N seconds (capped), or not at all, and says what it applied', () => {
    expect(preferredWait(undefined, options)).toEqual({ waitMs: 30_000 });
    expect(preferredWait('respond-async', options)).toEqual({ waitMs: 0, applied: 'respond-async' });
    expect(preferredWait('wait=5', options)).toEqual({ waitMs: 5000, applied: 'wait=5' });
    expect(preferredWait('wait=0', options)).toEqual({ waitMs: 0, applied: 'wait=0' });
    expect(preferredWait('wait=99999', options)).toEqual({ waitMs: 600_000, applied: 'wait=600' });
    expect(preferredWait('respond-async, wait=2', options)).toEqual({ waitMs: 2000, applied: 'respond-async, wait=2' });
    expect(preferredWait('unknown=1', options)).toEqual({ waitMs: 30_000 });
  });

  it('never waits for a job that is always answered at once (fine-tuning)', () => {
    expect(preferredWait('wait=30', { ...options, alwaysAsync: true })).toEqual({ waitMs: 0, applied: undefined });
    expect(preferredWait('respond-async', { ...options, alwaysAsync: true })).toEqual({ waitMs: 0, applied: 'respond-async' });
  });
});
