import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyDestination } from './pretty-log.js';

export type { Logger } from 'pino';

/**
 * Field names that may carry secrets. Redaction at the logger is the second line of defence:
 * the first is never passing secrets to a log call at all.
 */
const SECRET_KEYS = [
  'token',
  'client_token',
  'clientToken',
  'password',
  'secret',
  'secret_id',
  'secretId',
  'credentials',
  'idToken',
  'id_token',
  'jwt',
  'authorization',
  'releaseToken',
  'release_token',
  'x-vault-token',
];

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
];

/** The one root logger; components take `logger.child({ component })`, RPCs a child per call. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'jitgated' },
      redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

export type LogFormat = 'json' | 'pretty';

/** Where the daemon logs: stderr (journald under systemd), as JSON or as human-readable lines. */
export function logDestination(format: LogFormat): DestinationStream {
  const stderr = pino.destination({ fd: 2, sync: false });
  return format === 'pretty' ? prettyDestination(stderr) : stderr;
}

/** `auto` is JSON unless stderr is a terminal: journald and log shippers get JSON, a person gets lines. */
export function resolveLogFormat(format: LogFormat | 'auto', stderrIsTTY: boolean): LogFormat {
  if (format !== 'auto') return format;
  return stderrIsTTY ? 'pretty' : 'json';
}

/** A logger that discards everything, for tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
