export { createGrpcServer, ACCESS_SERVICE, APPROVAL_SERVICE, type GrpcServerHandle, type GrpcServerOptions } from './server.js';
export { toGrpcStatus, type GrpcStatus } from './status.js';
export { loadJitgateProto, PROTO_LOADER_OPTIONS, type JitgateProto, type LoadedProto } from './load-proto.js';
