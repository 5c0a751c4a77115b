/**
 * One error base class with a stable string `code`. Domain code throws these; the gRPC edge maps
 * them to status codes (src/daemon/grpc/status.ts) and the SDK maps statuses back.
 */
export class JitgateError extends Error {
  /** Stable, machine-readable code; never changes once published. */
  readonly code: string = 'ERR_JITGATE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input from a client or a file was malformed; `field` names the offending field or key path. */
export class InvalidArgumentError extends JitgateError {
  override readonly code = 'ERR_INVALID_ARGUMENT';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** The configuration file is invalid; `path` is the dotted key path (e.g. `policies[2].match.resource`). */
export class ConfigError extends JitgateError {
  override readonly code = 'ERR_CONFIG';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(path ? `${path}: ${message}` : message, options);
  }
}

export class NotFoundError extends JitgateError {
  override readonly code = 'ERR_NOT_FOUND';
}

/** The caller's identity could not be established (bad/expired/replayed token). */
export class IdentityError extends JitgateError {
  override readonly code = 'ERR_IDENTITY';
}

/** The caller is known but not allowed (approver not in the allowed set, self-approval, context mismatch). */
export class PermissionDeniedError extends JitgateError {
  override readonly code = 'ERR_PERMISSION_DENIED';
}

/** The request is already in a final state, or otherwise not in a state that allows the operation. */
export class ConflictError extends JitgateError {
  override readonly code = 'ERR_CONFLICT';
}

export class ResourceExhaustedError extends JitgateError {
  override readonly code = 'ERR_RESOURCE_EXHAUSTED';
}

/** A dependency (Vault, audit log, state store) failed, or the daemon is shutting down. Retryable. */
export class UnavailableError extends JitgateError {
  override readonly code = 'ERR_UNAVAILABLE';
}

/** Renders any thrown value as a one-line message without leaking stack traces. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
