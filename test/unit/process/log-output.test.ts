import { describe, expect, it } from 'vitest';
import { formatLogLine, usePrettyLogs } from '../../../src/logging/log-output.js';

describe('log output', () => {
  it('writes one readable line per record on a terminal', () => {
    const line = formatLogLine(
      { level: 30, time: Date.UTC(2026, 11, 2, 8, 1, 2, 345), pid: 1, hostname: 'h', reqId: 'r1', req: { method: 'GET', url: '/healthz' }, res: { statusCode: 200 }, responseTime: 2.5, msg: 'request completed' },
      false,
    );
    expect(line).toBe('08:01:02.345 INFO  request completed reqId=r1 GET /healthz → 200 2.5 ms\n');
  });

  it('keeps an error stack under its line', () => {
    const line = formatLogLine({ level: 50, time: 0, msg: 'job failed', err: { type: 'Error', message: 'x', stack: 'Error: x\n    at f' } }, false);
    expect(line.split('\n')[0]).toContain('ERROR job failed');
    expect(line).toContain('    Error: x');
  });

  it('chooses pretty only for a TTY unless told', () => {
    expect(usePrettyLogs('auto', { isTTY: true } as NodeJS.WriteStream)).toBe(true);
    expect(usePrettyLogs('auto', { isTTY: false } as NodeJS.WriteStream)).toBe(false);
    expect(usePrettyLogs('json', { isTTY: true } as NodeJS.WriteStream)).toBe(false);
    expect(usePrettyLogs('pretty', { isTTY: false } as NodeJS.WriteStream)).toBe(true);
  });
});
