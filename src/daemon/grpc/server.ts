import { unlink } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { LimitsConfig, ListenConfig } from '../config/types.js';
import type { ApproverResolver, Gate } from '../gate/types.js';
import type { AccessServiceHandlers } from '../../generated/jitgate/v1/AccessService.js';
import type { ApprovalServiceHandlers } from '../../generated/jitgate/v1/ApprovalService.js';
import { approveHandler } from './handlers/approve.js';
import { denyHandler } from './handlers/deny.js';
import type { HandlerDeps } from './handlers/deps.js';
import { getRequestHandler } from './handlers/get-request.js';
import { listRequestsHandler } from './handlers/list-requests.js';
import { releaseHandler } from './handlers/release.js';
import { requestAccessHandler } from './handlers/request-access.js';
import { watchRequestsHandler } from './handlers/watch-requests.js';
import { addHealth, reflectionAdder } from './health.js';
import { bindSocket, bindTcp } from './listeners.js';
import { loadJitgateProto } from './load-proto.js';
import { createRpcAdapters } from './rpc-adapters.js';

export { ACCESS_SERVICE, APPROVAL_SERVICE } from './health.js';

export interface GrpcServerOptions {
  gate: Gate;
  approvers: ApproverResolver;
  listen: ListenConfig;
  limits: LimitsConfig;
  logger: Logger;
  clock: Clock;
  /** Leave the reflection service to a later `addReflection()` call (the daemon: once SERVING). */
  deferReflection?: boolean;
}

export interface GrpcServerHandle {
  /** Binds the Unix socket (removing a stale socket file first only if nothing answers on it), chmods it to listen.socketMode, and TCP+TLS if configured. */
  start(): Promise<void>;
  /**
   * Adds the gRPC reflection service (for grpcurl and friends); `start` does it unless
   * `deferReflection`. It loads @grpc/reflection and parses the health proto again: not needed to
   * serve, so the daemon calls this once SERVING rather than paying for it in cold start.
   */
  addReflection(): Promise<void>;
  /** grpc.health.v1 status for "" and both services. Starts NOT_SERVING: the daemon flips it once ready. */
  setServing(serving: boolean): void;
  /** Stop accepting; in-flight calls finish for up to `deadlineMs` milliseconds from now, then forceShutdown. */
  shutdown(deadlineMs: number): Promise<void>;
}

/** Open streams by kind: shutdown drains the first and cuts the second (a watch never ends by itself). */
interface StreamRegistries {
  readonly access: Set<AbortController>;
  readonly watch: Set<AbortController>;
}

/** Both services, each RPC wired from its handler module through the shared transport adapters. */
function addServices(server: grpc.Server, options: GrpcServerOptions, streams: StreamRegistries): ReturnType<typeof loadJitgateProto> {
  const loaded = loadJitgateProto();
  const { unary, serverStream } = createRpcAdapters(options);
  const deps: HandlerDeps = { gate: options.gate, approvers: options.approvers, logger: options.logger };
  const accessHandlers: AccessServiceHandlers = {
    RequestAccess: serverStream('RequestAccess', streams.access, requestAccessHandler(deps)),
    Release: unary('Release', releaseHandler(deps)),
  };
  const approvalHandlers: ApprovalServiceHandlers = {
    ListRequests: unary('ListRequests', listRequestsHandler(deps)),
    GetRequest: unary('GetRequest', getRequestHandler(deps)),
    WatchRequests: serverStream('WatchRequests', streams.watch, watchRequestsHandler(deps)),
    Approve: unary('Approve', approveHandler(deps)),
    Deny: unary('Deny', denyHandler(deps)),
  };
  server.addService(loaded.proto.jitgate.v1.AccessService.service, accessHandlers);
  server.addService(loaded.proto.jitgate.v1.ApprovalService.service, approvalHandlers);
  return loaded;
}

/** Stops accepting and waits for in-flight calls until the deadline, then aborts open streams and forces the close. */
function drain(server: grpc.Server, clock: Clock, streams: StreamRegistries, deadlineMs: number): Promise<void> {
  // Watch streams never end by themselves; draining would always hit the deadline.
  for (const controller of streams.watch) controller.abort();
  return new Promise<void>((resolve) => {
    const timer = clock.setTimeout(() => {
      // Streams still open at the deadline are aborted so their gate work is cancelled, not abandoned.
      for (const controller of streams.access) controller.abort();
      server.forceShutdown();
      resolve();
    }, deadlineMs);
    server.tryShutdown(() => {
      clock.clearTimeout(timer);
      resolve();
    });
  });
}

/** The daemon's gRPC edge: AccessService and ApprovalService over the Unix socket (and TCP+TLS), plus health and reflection. */
export function createGrpcServer(options: GrpcServerOptions): GrpcServerHandle {
  const { listen, limits, clock } = options;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': limits.maxMessageBytes });
  const health = addHealth(server);
  const streams: StreamRegistries = { access: new Set(), watch: new Set() };
  const { packageDefinition } = addServices(server, options, streams);
  const addReflection = reflectionAdder(server, packageDefinition);
  let started = false;

  return {
    addReflection,
    async start() {
      if (options.deferReflection !== true) await addReflection();
      await bindSocket(server, listen, () => {
        started = true;
      });
      await bindTcp(server, listen);
      options.logger.info({ socket: listen.socket, tcp: listen.tcp?.address }, 'gRPC listening');
    },
    setServing: (serving) => {
      health.setServing(serving);
    },
    async shutdown(deadlineMs) {
      health.setServing(false);
      await drain(server, clock, streams, deadlineMs);
      if (started) await unlink(listen.socket).catch(() => undefined);
    },
  };
}
