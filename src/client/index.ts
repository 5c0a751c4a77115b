export { JitgateClient, DEFAULT_SOCKET, type JitgateClientOptions, type RequestOptions } from './client.js';
export { AccessDeniedError } from './access-denied-error.js';
export type { Grant, GrantEnd } from './grant.js';
export type { AccessProgress, RequestInfo, ClaimedContext, RequestContext, RequestStatus, ApprovalView } from './types.js';
export { fromGrpcError } from './grpc-errors.js';
export { requestAccess, type RequestAccessOptions } from './request-access.js';
