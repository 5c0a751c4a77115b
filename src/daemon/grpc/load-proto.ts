// The proto loader lives in common/: the SDK needs it too, and client/ never imports daemon/.
export { loadJitgateProto, protoRoot, PROTO_FILES, PROTO_LOADER_OPTIONS, type JitgateProto, type LoadedProto } from '../../common/load-proto.js';
