// The Prefer request header (RFC 7240) of the job routes: `respond-async` answers 202 at once,
// `wait=N` waits up to N seconds for the job before a 202; what was honoured is echoed in
// Preference-Applied. Unknown preferences are ignored, as the RFC asks.

export interface Preferences {
  respondAsync: boolean;
  /** Seconds from `wait=N`; undefined when absent or not a whole number. */
  waitSeconds?: number;
}

/** Reads every Prefer header value (comma-separated preferences, `;` parameters ignored). */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const out: Preferences = { respondAsync: false };
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const value of values) {
    for (const item of value.split(',')) {
      const [token, ...rest] = item.split(';')[0].split('=');
      const name = token.trim().toLowerCase();
      const arg = rest.join('=').trim().replace(/^"(.*)"$/, '$1');
      if (name === 'respond-async' && rest.length === 0) out.respondAsync = true;
      else if (name === 'wait' && /^\d{1,9}$/.test(arg) && out.waitSeconds === undefined) out.waitSeconds = Number(arg);
    }
  }
  return out;
}

/**
 * How long a job answer waits, and the Preference-Applied value. `wait=N` wins over the default and
 * is capped at `maxMs` (the echoed N is the capped one); `respond-async` alone answers at once; both
 * together wait N seconds, then answer 202 (RFC 7240 §4.3). `alwaysAsync` (fine-tuning) never waits.
 */
export function preferredWait(
  header: string | string[] | undefined,
  options: { defaultMs: number; maxMs: number; alwaysAsync?: boolean },
): { waitMs: number; applied?: string } {
  const p = parsePrefer(header);
  if (options.alwaysAsync) return { waitMs: 0, applied: p.respondAsync ? 'respond-async' : undefined };
  if (p.waitSeconds !== undefined) {
    const seconds = Math.min(p.waitSeconds, Math.floor(options.maxMs / 1000));
    return { waitMs: seconds * 1000, applied: p.respondAsync ? `respond-async, wait=${seconds}` : `wait=${seconds}` };
  }
  if (p.respondAsync) return { waitMs: 0, applied: 'respond-async' };
  return { waitMs: options.defaultMs };
}
