import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { PROTO_LOADER_OPTIONS } from './load-proto.js';

export const ACCESS_SERVICE = 'jitgate.v1.AccessService';
export const APPROVAL_SERVICE = 'jitgate.v1.ApprovalService';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** grpc.health.v1 for "" and the services one server carries; everything starts NOT_SERVING until the daemon is ready. */
export interface HealthStatus {
  setServing(serving: boolean): void;
}

/**
 * Health for `services` (plus ""): a service the server does not carry (AccessService on TCP)
 * answers NOT_FOUND rather than SERVING, so probes never advertise what is not served there.
 */
export function addHealth(server: grpc.Server, services: readonly string[]): HealthStatus {
  const names = ['', ...services];
  const health = new HealthImplementation(Object.fromEntries(names.map((name) => [name, 'NOT_SERVING' as const])));
  health.addToServer(server);
  return {
    setServing(serving) {
      const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
      for (const name of names) health.setStatus(name, status);
    },
  };
}

/**
 * Returns a function that adds the gRPC reflection service once (later calls do nothing), listing
 * only `services` (those this server carries). It loads @grpc/reflection and parses the health
 * proto again: not needed to serve, hence lazy.
 */
export function reflectionAdder(server: grpc.Server, packageDefinition: protoLoader.PackageDefinition, services: readonly string[]): () => Promise<void> {
  let reflecting = false;
  return async () => {
    if (reflecting) return;
    reflecting = true;
    const { ReflectionService } = await import('@grpc/reflection');
    // Health goes into the reflection set too, so grpcurl and friends can discover everything served.
    const healthDefinition = protoLoader.loadSync(healthProtoPath, PROTO_LOADER_OPTIONS);
    new ReflectionService({ ...packageDefinition, ...healthDefinition }, { services: [...services, HEALTH_SERVICE] }).addToServer(server);
  };
}
