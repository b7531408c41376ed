// Where logs go: JSON lines for machines (pipes, files, containers), one readable line per event on
// a terminal. LOG_FORMAT=json|pretty overrides the choice made from whether stdout is a TTY.
import type { DestinationStream } from 'pino';

export type LogFormat = 'auto' | 'json' | 'pretty';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '31' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** One JSON log record as one readable line (errors keep their stack on the lines after). */
export function formatLogLine(record: Record<string, unknown>, color: boolean): string {
  const level = Number(record.level);
  const time = new Date(Number(record.time)).toISOString().slice(11, 23);
  const name = LEVELS[level] ?? String(level);
  const tag = color ? `\x1b[${COLORS[level] ?? '0'}m${name}\x1b[0m` : name;
  let stack = '';
  const fields: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (HIDDEN.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object' && 'stack' in v) {
      stack = `\n    ${String((v as { stack: string }).stack).split('\n').join('\n    ')}`;
      continue;
    }
    if (k === 'req' && v && typeof v === 'object') {
      const req = v as { method?: string; url?: string };
      fields.push(`${req.method ?? ''} ${req.url ?? ''}`.trim());
      continue;
    }
    if (k === 'res' && v && typeof v === 'object' && 'statusCode' in v) {
      fields.push(`→ ${(v as { statusCode: number }).statusCode}`);
      continue;
    }
    if (k === 'responseTime') {
      fields.push(`${v} ms`);
      continue;
    }
    fields.push(`${k}=${value(v)}`);
  }
  const rest = fields.length ? ` ${color ? '\x1b[90m' : ''}${fields.join(' ')}${color ? '\x1b[0m' : ''}` : '';
  return `${time} ${tag} ${String(record.msg ?? '')}${rest}${stack}\n`;
}

export function usePrettyLogs(format: LogFormat, stream: NodeJS.WriteStream = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stream.isTTY === true);
}

/** A pino destination writing readable lines to `out`. */
export function prettyDestination(out: NodeJS.WritableStream = process.stdout, color = true): DestinationStream {
  return {
    write(line: string) {
      try {
        out.write(formatLogLine(JSON.parse(line) as Record<string, unknown>, color));
      } catch {
        out.write(line);
      }
    },
  };
}
