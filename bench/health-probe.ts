import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

type Status = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, response?: { status: Status }) => void,
  ): grpc.ClientUnaryCall;
}

type HealthCtor = new (address: string, credentials: grpc.ChannelCredentials) => HealthClient;

let ctor: HealthCtor | undefined;

function healthCtor(): HealthCtor {
  if (!ctor) {
    const definition = protoLoader.loadSync(protoPath, { keepCase: true, enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: HealthCtor } } } };
    ctor = loaded.grpc.health.v1.Health;
  }
  return ctor;
}

/** One grpc.health.v1 Check on a Unix socket; `null` when the daemon does not answer at all. */
export async function checkHealth(socket: string, timeoutMs = 1000): Promise<Status | null> {
  const Health = healthCtor();
  // A fresh channel per probe: a failed connect would otherwise put the channel into reconnect backoff.
  const client = new Health(`unix:${socket}`, grpc.credentials.createInsecure());
  try {
    return await new Promise<Status | null>((resolve) => {
      client.Check({ service: '' }, { deadline: new Date(Date.now() + timeoutMs) }, (err, response) => {
        resolve(err || !response ? null : response.status);
      });
    });
  } finally {
    client.close();
  }
}
