import type { ErrorCode } from '../model/error-codes.js';

/** `jitgate` exit codes (sysexits.h where one fits); anything else is the wrapped command's own code. */
export const EXIT = {
  OK: 0,
  /** Generic failure of a non-`run` command (bad audit log, invalid policy file, refused approval). */
  FAILURE: 1,
  /** Bad flags or arguments. */
  USAGE: 64,
  /** The daemon is unreachable or failed. */
  UNAVAILABLE: 69,
  /** The request expired without a decision. */
  EXPIRED: 75,
  /** The request was denied (policy, approver, identity, shutdown). */
  DENIED: 77,
  /** `run`: the command could not be started. */
  NOT_RUNNABLE: 127,
} as const;

/**
 * `jitgate run`'s exit code for each error code, when the request fails before the command runs:
 * the one table (the README's "Error codes" section lists it). Each code lands in the class whose
 * exit code it had before codes existed, so the exit codes are the ones documented since.
 */
export const RUN_EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  POLICY_NO_MATCH: EXIT.DENIED,
  POLICY_DENY: EXIT.DENIED,
  TTL_EXCEEDS_MAX: EXIT.DENIED,
  UNKNOWN_RESOURCE: EXIT.USAGE,
  TOKEN_INVALID: EXIT.DENIED,
  TOKEN_REPLAYED: EXIT.DENIED,
  CONTEXT_MISMATCH: EXIT.DENIED,
  APPROVER_UNAUTHENTICATED: EXIT.DENIED,
  SELF_APPROVAL: EXIT.DENIED,
  NOT_AN_APPROVER: EXIT.DENIED,
  DENIED_BY_APPROVER: EXIT.DENIED,
  EXPIRED: EXIT.EXPIRED,
  ALREADY_DECIDED: EXIT.UNAVAILABLE,
  CANCELLED: EXIT.DENIED,
  BREAK_GLASS_NOT_ALLOWED: EXIT.DENIED,
  NOT_BREAK_GLASS: EXIT.UNAVAILABLE,
  ALREADY_REVIEWED: EXIT.UNAVAILABLE,
  SELF_REVIEW: EXIT.DENIED,
  STEP_UP_REQUIRED: EXIT.DENIED,
  SUPERSEDED: EXIT.DENIED,
  RELEASE_TOKEN_MISMATCH: EXIT.DENIED,
  REQUEST_NOT_FOUND: EXIT.UNAVAILABLE,
  GRANT_NOT_FOUND: EXIT.UNAVAILABLE,
  TOO_MANY_PENDING: EXIT.UNAVAILABLE,
  SHUTDOWN: EXIT.DENIED,
  AUDIT_UNAVAILABLE: EXIT.UNAVAILABLE,
  STATE_UNAVAILABLE: EXIT.UNAVAILABLE,
  VAULT_UNAVAILABLE: EXIT.UNAVAILABLE,
  WRAPPING_TOKEN_INVALID: EXIT.UNAVAILABLE,
  ERR_INVALID_ARGUMENT: EXIT.USAGE,
  ERR_NOT_FOUND: EXIT.UNAVAILABLE,
  ERR_IDENTITY: EXIT.DENIED,
  ERR_PERMISSION_DENIED: EXIT.DENIED,
  ERR_CONFLICT: EXIT.UNAVAILABLE,
  ERR_RESOURCE_EXHAUSTED: EXIT.UNAVAILABLE,
  ERR_UNAVAILABLE: EXIT.UNAVAILABLE,
  ERR_ACCESS_DENIED: EXIT.DENIED,
  ERR_CONFIG: EXIT.USAGE,
  ERR_INTERNAL: EXIT.UNAVAILABLE,
};

/** A usage error: the message names the flag; the CLI prints it and exits 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
