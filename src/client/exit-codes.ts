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

/** A usage error: the message names the flag; the CLI prints it and exits 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
