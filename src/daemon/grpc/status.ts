import * as grpc from '@grpc/grpc-js';
import { JitgateError } from '../../common/errors.js';
import { ERROR_CODE_METADATA_KEY, type ErrorCode } from '../../model/error-codes.js';

export interface GrpcStatus {
  code: grpc.status;
  details: string;
}

const CODE_TO_STATUS: Readonly<Record<string, grpc.status>> = {
  ERR_INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  ERR_CONFIG: grpc.status.INVALID_ARGUMENT,
  ERR_NOT_FOUND: grpc.status.NOT_FOUND,
  ERR_IDENTITY: grpc.status.UNAUTHENTICATED,
  ERR_PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  ERR_CONFLICT: grpc.status.FAILED_PRECONDITION,
  ERR_RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  ERR_UNAVAILABLE: grpc.status.UNAVAILABLE,
};

export const INTERNAL_DETAILS = 'internal error';

/**
 * The only place domain errors become gRPC statuses. Domain messages are written to be shown to
 * callers (they never hold secrets); anything unrecognised may, so it becomes a generic INTERNAL
 * and the caller logs the real error.
 */
export function toGrpcStatus(err: unknown): GrpcStatus {
  if (err instanceof JitgateError) {
    const code = CODE_TO_STATUS[err.genericCode];
    if (code !== undefined) return { code, details: err.message };
  }
  return { code: grpc.status.INTERNAL, details: INTERNAL_DETAILS };
}

/** The stable code a client sees for `err`: its own, or `ERR_INTERNAL` for anything not a `JitgateError`. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof JitgateError ? err.code : 'ERR_INTERNAL';
}

/** Trailing metadata carrying `code` under {@link ERROR_CODE_METADATA_KEY}, for statuses and stream ends. */
export function errorCodeTrailer(code: ErrorCode): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, code);
  return metadata;
}

/**
 * A `grpc.ServiceError`-shaped object for handler callbacks and `call.emit('error')`; its
 * `metadata` becomes the status's trailers, so the client learns the stable code too.
 */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> & Error {
  const { code, details } = toGrpcStatus(err);
  return Object.assign(new Error(details), { code, details, metadata: errorCodeTrailer(errorCodeOf(err)) });
}
