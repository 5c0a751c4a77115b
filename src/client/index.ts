export { JitgateClient, DEFAULT_SOCKET, type JitgateClientOptions, type RequestOptions } from './client.js';
export { AccessDeniedError } from './access-denied-error.js';
export type { Grant, GrantEnd } from './grant.js';
export type { AccessProgress, RequestInfo, ClaimedContext, RequestContext, RequestStatus, ApprovalView } from './types.js';
export { fromGrpcError } from './grpc-errors.js';
export { requestAccess, type RequestAccessOptions } from './request-access.js';
/**
 * The catalogue of stable error codes: code → one-line meaning. Every error the SDK raises has
 * one as `err.code` (`POLICY_NO_MATCH`, `SELF_APPROVAL`, `EXPIRED`, ...); branch on it, never on
 * message text. The daemon sends it in the gRPC trailing metadata key `jitgate-error-code`.
 */
export { ERROR_CODES } from '../model/error-codes.js';
/** One key of {@link ERROR_CODES}: the stable code of an error. */
export type { ErrorCode } from '../model/error-codes.js';
/** Narrows an untrusted value (e.g. a code read from elsewhere) to a known {@link ErrorCode}. */
export { isErrorCode } from '../model/error-codes.js';
