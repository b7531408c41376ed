import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onShutdown } from '../../../src/process/graceful-shutdown.js';

function harness(repeatWindowMs: number) {
  const events = new EventEmitter();
  const exits: number[] = [];
  const lines: string[] = [];
  let closes = 0;
  let release!: () => void;
  const closed = new Promise<void>((r) => {
    release = r;
  });
  onShutdown({ delayMs: 60_000, repeatWindowMs, events, exit: (c) => exits.push(c), write: (l) => lines.push(l) }, async () => {
    closes++;
    await closed;
  });
  return { events, exits, lines, closes: () => closes, release };
}

describe('onShutdown', () => {
  it('treats the burst of SIGINTs one Ctrl-C sends (terminal group + npm forwarding) as one graceful stop', async () => {
    const h = harness(60_000);
    h.events.emit('SIGINT', 'SIGINT');
    h.events.emit('SIGINT', 'SIGINT');
    h.events.emit('SIGTERM', 'SIGTERM');
    expect(h.closes()).toBe(1);
    expect(h.exits).toEqual([]);
    h.release();
    await new Promise((r) => setImmediate(r));
    expect(h.exits).toEqual([0]);
  });

  it('forces the exit when a signal comes again well after the first', async () => {
    const h = harness(0);
    h.events.emit('SIGINT', 'SIGINT');
    await new Promise((r) => setTimeout(r, 5));
    h.events.emit('SIGINT', 'SIGINT');
    expect(h.exits).toEqual([130]);
    expect(h.lines.join('\n')).toContain('again');
  });

  it('closes with exit status 1 after an uncaught error', async () => {
    const h = harness(60_000);
    h.events.emit('uncaughtException', new Error('boom'));
    h.release();
    await new Promise((r) => setImmediate(r));
    expect(h.exits).toEqual([1]);
  });
});
