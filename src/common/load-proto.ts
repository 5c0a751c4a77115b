import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as AccessProto } from '../generated/access.js';
import type { ProtoGrpcType as ApprovalProto } from '../generated/approval.js';

export const PROTO_FILES = ['jitgate/v1/types.proto', 'jitgate/v1/access.proto', 'jitgate/v1/approval.proto'] as const;

/**
 * Must match the flags of `npm run proto:gen`, or the generated types lie about runtime shapes:
 * camelCase fields, int64 as decimal strings, enums as their names, defaults filled in.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

export type JitgateProto = AccessProto & ApprovalProto;

export interface LoadedProto {
  readonly packageDefinition: protoLoader.PackageDefinition;
  readonly proto: JitgateProto;
}

/** Walks up from this module so the same code finds `proto/` from `src/` (tsx) and from `dist/src/` (build). */
export function protoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'jitgate', 'v1', 'access.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('jitgate proto files not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

let cached: LoadedProto | undefined;

/** Loads `jitgate.v1` once per process. */
export function loadJitgateProto(): LoadedProto {
  if (!cached) {
    const packageDefinition = protoLoader.loadSync([...PROTO_FILES], { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
    cached = { packageDefinition, proto: grpc.loadPackageDefinition(packageDefinition) as unknown as JitgateProto };
  }
  return cached;
}
