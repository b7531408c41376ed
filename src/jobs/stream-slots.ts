// Open Server-Sent Events streams per API key, counted in this gateway process: a key holds at
// most `max` at once, so one client cannot pin the gateway's sockets and subscriptions.
export interface StreamSlots {
  /** A slot for `key`, or null when it already holds `max`; the release function is idempotent. */
  acquire(key: string): (() => void) | null;
  /** Streams `key` holds open now. */
  open(key: string): number;
}

export function createStreamSlots(max: number): StreamSlots {
  const held = new Map<string, number>();
  return {
    acquire(key) {
      const n = held.get(key) ?? 0;
      if (n >= max) return null;
      held.set(key, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (held.get(key) ?? 1) - 1;
        if (left > 0) held.set(key, left);
        else held.delete(key);
      };
    },
    open: (key) => held.get(key) ?? 0,
  };
}
