// The emulator's log as a person reads it on a terminal: one line per event, time, level, message
// and its fields. Off a terminal the log stays pino's JSON lines, for scripts and collectors.
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** One pino JSON line as a readable line (the input itself when it is not JSON). */
export function readableLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const level = LEVELS[o.level as number] ?? String(o.level ?? '');
  const fields = Object.entries(o).filter(([k]) => !SKIP.has(k)).map(([k, v]) => {
    if (k === 'err' && v && typeof v === 'object') return `err=${JSON.stringify((v as { message?: string }).message ?? v)}`;
    return `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`;
  });
  return [time, level.padEnd(5), String(o.msg ?? ''), ...fields].filter(Boolean).join(' ');
}

/** A stream for pino that writes readable lines to `out`. */
export function readableLog(out: NodeJS.WritableStream): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) out.write(readableLine(l) + '\n');
      done();
    },
  });
}
