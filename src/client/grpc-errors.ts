import * as grpc from '@grpc/grpc-js';
import {
  ConflictError,
  IdentityError,
  InvalidArgumentError,
  JitgateError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
  type JitgateErrorOptions,
} from '../common/errors.js';
import { errorCodeFromMetadata } from './wire-error-code.js';

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}

/**
 * Turns a gRPC failure back into the typed errors of src/common/errors.ts: the mirror of
 * src/daemon/grpc/status.ts. The daemon's `details` are already safe to show, so they become the
 * message; its stable code (trailing metadata) becomes `err.code`, else the class's generic code.
 */
export function fromGrpcError(err: unknown): JitgateError {
  if (err instanceof JitgateError) return err;
  if (!isServiceError(err)) return new UnavailableError(`daemon call failed: ${String(err)}`, { cause: err });
  const details = err.details || grpc.status[err.code];
  const code = errorCodeFromMetadata(err.metadata);
  const options: JitgateErrorOptions = code === undefined ? { cause: err } : { cause: err, code };
  switch (err.code) {
    case grpc.status.INVALID_ARGUMENT: {
      const colon = details.indexOf(': ');
      return colon > 0
        ? new InvalidArgumentError(details.slice(0, colon), details.slice(colon + 2), options)
        : new InvalidArgumentError('request', details, options);
    }
    case grpc.status.NOT_FOUND:
      return new NotFoundError(details, options);
    case grpc.status.UNAUTHENTICATED:
      return new IdentityError(details, options);
    case grpc.status.PERMISSION_DENIED:
      return new PermissionDeniedError(details, options);
    case grpc.status.FAILED_PRECONDITION:
      return new ConflictError(details, options);
    case grpc.status.RESOURCE_EXHAUSTED:
      return new ResourceExhaustedError(details, options);
    case grpc.status.UNAVAILABLE:
      return new UnavailableError(`jitgated unavailable: ${details}`, options);
    case grpc.status.DEADLINE_EXCEEDED:
      return new UnavailableError('jitgated did not answer in time', options);
    default:
      return new JitgateError(`jitgated: ${details}`, options);
  }
}
