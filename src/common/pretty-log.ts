import type { DestinationStream } from 'pino';

/**
 * Human-readable log lines for a terminal: `12:01:02.345Z INFO  daemon: jitgated serving socket=…`.
 * It formats the JSON that pino has already serialized, so redaction (done by pino before
 * serializing) applies unchanged: this code never sees a secret that the JSON would not show.
 * Our own formatter rather than pino-pretty: a few lines instead of a runtime dependency.
 */

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Shown in the line's head, or not at all: `service` is always jitgated. */
const HEAD_KEYS = new Set(['level', 'time', 'msg', 'component', 'service', 'pid', 'hostname']);

/** A value as `key=value` shows it: bare when unambiguous, JSON-quoted otherwise (so a value can never forge a line). */
function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w./:@+,[\]-]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/** Control characters in a message are escaped as in JSON: one record is always one line. */
function safeText(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return /[\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text).slice(1, -1) : text;
}

/** One pino JSON line as one human-readable line; anything that is not a JSON object passes unchanged. */
export function formatLogLine(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return line;
  const fields = record as Record<string, unknown>;
  const time = typeof fields.time === 'string' ? fields.time.slice(11) : '';
  const level = (typeof fields.level === 'number' ? LEVELS[fields.level] : undefined) ?? String(fields.level);
  const component = typeof fields.component === 'string' ? `${safeText(fields.component)}: ` : '';
  const msg = typeof fields.msg === 'string' ? safeText(fields.msg) : '';
  const rest = Object.entries(fields)
    .filter(([key]) => !HEAD_KEYS.has(key))
    .map(([key, value]) => ` ${safeText(key)}=${fieldValue(value)}`)
    .join('');
  return `${time} ${level.padEnd(5)} ${component}${msg}${rest}`;
}

/** A pino destination that writes formatted lines to `out` (pino hands it one JSON line per write). */
export function prettyDestination(out: DestinationStream & { flush?(): void; flushSync?(): void }): DestinationStream {
  return {
    write(chunk: string): void {
      const lines = chunk.split('\n').filter((l) => l !== '');
      out.write(lines.map((l) => `${formatLogLine(l)}\n`).join(''));
    },
    // pino.flush() and its exit handling call these when the destination has them.
    ...(out.flush && { flush: () => out.flush?.() }),
    ...(out.flushSync && { flushSync: () => out.flushSync?.() }),
  };
}
