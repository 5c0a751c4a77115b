import type { ErrorCode } from '../model/error-codes.js';

export interface JitgateErrorOptions {
  readonly cause?: unknown;
  /** A specific code from src/model/error-codes.ts; the class's generic code when absent. */
  readonly code?: ErrorCode;
}

/**
 * One error base class with a stable string `code`. Domain code throws these; the gRPC edge maps
 * them to status codes (src/daemon/grpc/status.ts) and the SDK maps statuses back.
 *
 * Each class has a generic code (`ERR_*`, its {@link JitgateError.genericCode}); a throw site may
 * pass a more specific one (`SELF_APPROVAL`), which is what clients see.
 */
export class JitgateError extends Error {
  /** The generic code of this class; the gRPC status is derived from it. */
  static readonly genericCode: ErrorCode = 'ERR_INTERNAL';

  /** Stable, machine-readable code; never changes once published. */
  readonly code: ErrorCode;

  constructor(message: string, options?: JitgateErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? new.target.genericCode;
  }

  /** The generic code of this error's class. */
  get genericCode(): ErrorCode {
    return (this.constructor as typeof JitgateError).genericCode;
  }
}

/** Input from a client or a file was malformed; `field` names the offending field or key path. */
export class InvalidArgumentError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_INVALID_ARGUMENT';
  constructor(
    readonly field: string,
    message: string,
    options?: JitgateErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** The configuration file is invalid; `path` is the dotted key path (e.g. `policies[2].match.resource`). */
export class ConfigError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_CONFIG';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(path ? `${path}: ${message}` : message, options);
  }
}

export class NotFoundError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_NOT_FOUND';
}

/** The caller's identity could not be established (bad/expired/replayed token). */
export class IdentityError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_IDENTITY';
}

/** The caller is known but not allowed (approver not in the allowed set, self-approval, context mismatch). */
export class PermissionDeniedError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_PERMISSION_DENIED';
}

/** The request is already in a final state, or otherwise not in a state that allows the operation. */
export class ConflictError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_CONFLICT';
}

export class ResourceExhaustedError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_RESOURCE_EXHAUSTED';
}

/** A dependency (Vault, audit log, state store) failed, or the daemon is shutting down. Retryable. */
export class UnavailableError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_UNAVAILABLE';
}

/** Renders any thrown value as a one-line message without leaking stack traces. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
