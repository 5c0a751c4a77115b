import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { PROTO_LOADER_OPTIONS } from './load-proto.js';

export const ACCESS_SERVICE = 'jitgate.v1.AccessService';
export const APPROVAL_SERVICE = 'jitgate.v1.ApprovalService';

const SERVICES = ['', ACCESS_SERVICE, APPROVAL_SERVICE] as const;

/** grpc.health.v1 for "" and both services; everything starts NOT_SERVING until the daemon is ready. */
export interface HealthStatus {
  setServing(serving: boolean): void;
}

export function addHealth(server: grpc.Server): HealthStatus {
  const health = new HealthImplementation({ '': 'NOT_SERVING', [ACCESS_SERVICE]: 'NOT_SERVING', [APPROVAL_SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  return {
    setServing(serving) {
      const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
      for (const name of SERVICES) health.setStatus(name, status);
    },
  };
}

/**
 * Returns a function that adds the gRPC reflection service once (later calls do nothing). It
 * loads @grpc/reflection and parses the health proto again: not needed to serve, hence lazy.
 */
export function reflectionAdder(server: grpc.Server, packageDefinition: protoLoader.PackageDefinition): () => Promise<void> {
  let reflecting = false;
  return async () => {
    if (reflecting) return;
    reflecting = true;
    const { ReflectionService } = await import('@grpc/reflection');
    // Health goes into the reflection set too, so grpcurl and friends can discover everything served.
    const healthDefinition = protoLoader.loadSync(healthProtoPath, PROTO_LOADER_OPTIONS);
    new ReflectionService({ ...packageDefinition, ...healthDefinition }).addToServer(server);
  };
}
