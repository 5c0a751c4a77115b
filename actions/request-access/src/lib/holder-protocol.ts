/**
 * Messages between `main` and the holder over the IPC channel `main` opens when it starts the
 * holder. The credentials cross this channel only: never a command line, a file or a log.
 */
export type HolderMessage =
  | { readonly type: 'progress'; readonly line: string }
  | {
      readonly type: 'granted';
      readonly grantId: string;
      readonly requestId: string;
      readonly expiresAtMs: number;
      readonly credentials: Readonly<Record<string, string>>;
    }
  | { readonly type: 'failed'; readonly message: string };

/** Sent by `main` once the credentials are masked and exported; from then on the holder outlives it. */
export interface AcceptedMessage {
  readonly type: 'accepted';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((v) => typeof v === 'string');
}

export function isHolderMessage(value: unknown): value is HolderMessage {
  if (!isRecord(value)) return false;
  switch (value['type']) {
    case 'progress':
      return typeof value['line'] === 'string';
    case 'failed':
      return typeof value['message'] === 'string';
    case 'granted':
      return (
        typeof value['grantId'] === 'string' &&
        typeof value['requestId'] === 'string' &&
        typeof value['expiresAtMs'] === 'number' &&
        isStringMap(value['credentials'])
      );
    default:
      return false;
  }
}

export function isAcceptedMessage(value: unknown): value is AcceptedMessage {
  return isRecord(value) && value['type'] === 'accepted';
}

/** The holder's last word, written to `status` in its private directory for `post` to report. */
export interface HolderStatus {
  readonly outcome: 'released' | 'release-failed' | 'lost' | 'cancelled';
  readonly message: string;
}

export const STATUS_FILE = 'status';
export const LOG_FILE = 'holder.log';
/** Env var naming the holder's private directory; set by `main` only. */
export const HOLDER_DIR_ENV = 'JITGATE_HOLDER_DIR';
