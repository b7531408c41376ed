// Finds stop sequences in streamed text and holds back any tail that could still become one, so
// text released to the caller never contains (the start of) a stop sequence.

export class StopSequenceMatcher {
  private pending = '';
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    this.longest = stops.reduce((max, s) => Math.max(max, s.length), 0);
  }

  /** Adds text; returns what is safe to release, and whether a stop sequence was completed. */
  push(text: string): { text: string; stopped: boolean } {
    this.pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const released = this.pending.slice(0, cut);
      this.pending = '';
      return { text: released, stopped: true };
    }
    const hold = this.heldTailLength();
    const released = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { text: released, stopped: false };
  }

  /** Releases the held tail once no more text will come. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  /** Length of the longest pending suffix that is a proper prefix of some stop sequence. */
  private heldTailLength(): number {
    const max = Math.min(this.pending.length, this.longest - 1);
    for (let n = max; n > 0; n--) {
      const tail = this.pending.slice(this.pending.length - n);
      if (this.stops.some((stop) => stop.startsWith(tail))) return n;
    }
    return 0;
  }
}
