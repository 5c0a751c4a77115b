import { unlink } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { CheckedListenConfig, LimitsConfig } from '../config/types.js';
import type { ApproverResolver, Gate } from '../gate/types.js';
import type { AccessServiceHandlers } from '../../generated/jitgate/v1/AccessService.js';
import type { ApprovalServiceHandlers } from '../../generated/jitgate/v1/ApprovalService.js';
import { approveHandler } from './handlers/approve.js';
import { breakGlassHandler } from './handlers/break-glass.js';
import { reviewHandler } from './handlers/review.js';
import { denyHandler } from './handlers/deny.js';
import type { HandlerDeps } from './handlers/deps.js';
import { getRequestHandler } from './handlers/get-request.js';
import { listRequestsHandler } from './handlers/list-requests.js';
import { releaseHandler } from './handlers/release.js';
import { requestAccessHandler } from './handlers/request-access.js';
import { watchRequestsHandler } from './handlers/watch-requests.js';
import { serveActivatedSocket, type ActivatedSocket } from './activated-socket.js';
import { ACCESS_SERVICE, APPROVAL_SERVICE, addHealth, reflectionAdder, type HealthStatus } from './health.js';
import { bindSocket, bindTcp } from './listeners.js';
import { loadJitgateProto } from './load-proto.js';
import { createRpcAdapters } from './rpc-adapters.js';
import { tolerantDecoding } from './undecodable-request.js';

export { ACCESS_SERVICE, APPROVAL_SERVICE } from './health.js';

export interface GrpcServerOptions {
  gate: Gate;
  approvers: ApproverResolver;
  listen: CheckedListenConfig;
  /**
   * A listening Unix socket handed over by systemd (socket activation, `LISTEN_FDS`): served
   * instead of binding `listen.socket`, and never unlinked (the file is systemd's).
   */
  socketFd?: number;
  limits: LimitsConfig;
  logger: Logger;
  clock: Clock;
  /** Leave the reflection service to a later `addReflection()` call (the daemon: once SERVING). */
  deferReflection?: boolean;
}

export interface GrpcServerHandle {
  /**
   * Binds the Unix socket (removing a stale socket file first only if nothing answers on it), gives
   * it listen.socketGid and listen.socketMode, or serves the activated `socketFd` instead; and
   * TCP+TLS if configured (its own server).
   */
  start(): Promise<void>;
  /**
   * Adds the gRPC reflection service (for grpcurl and friends); `start` does it unless
   * `deferReflection`. It loads @grpc/reflection and parses the health proto again: not needed to
   * serve, so the daemon calls this once SERVING rather than paying for it in cold start.
   */
  addReflection(): Promise<void>;
  /** grpc.health.v1 status on every listener for "" and the services it carries. Starts NOT_SERVING: the daemon flips it once ready. */
  setServing(serving: boolean): void;
  /** Both listeners: NOT_SERVING, stop accepting; in-flight calls finish for up to `deadlineMs` milliseconds from now, then forceShutdown. */
  shutdown(deadlineMs: number): Promise<void>;
}

/** Open streams by kind: shutdown drains the first and cuts the second (a watch never ends by itself). */
interface StreamRegistries {
  readonly access: Set<AbortController>;
  readonly watch: Set<AbortController>;
}

/** Both services' handlers, built once and shared by every listener's server. */
interface Services {
  readonly access: AccessServiceHandlers;
  readonly approval: ApprovalServiceHandlers;
}

/** Each RPC wired from its handler module through the shared transport adapters. */
function createServices(options: GrpcServerOptions, streams: StreamRegistries): Services {
  const { unary, serverStream } = createRpcAdapters(options);
  const deps: HandlerDeps = { gate: options.gate, approvers: options.approvers, logger: options.logger };
  return {
    access: {
      RequestAccess: serverStream('RequestAccess', streams.access, requestAccessHandler(deps)),
      Release: unary('Release', releaseHandler(deps)),
    },
    approval: {
      ListRequests: unary('ListRequests', listRequestsHandler(deps)),
      GetRequest: unary('GetRequest', getRequestHandler(deps)),
      WatchRequests: serverStream('WatchRequests', streams.watch, watchRequestsHandler(deps)),
      Approve: unary('Approve', approveHandler(deps)),
      Deny: unary('Deny', denyHandler(deps)),
      BreakGlass: unary('BreakGlass', breakGlassHandler(deps)),
      Review: unary('Review', reviewHandler(deps)),
    },
  };
}

/** One grpc-js Server: it serves every added service on every port it binds, hence one per listener. */
interface Listener {
  readonly server: grpc.Server;
  readonly health: HealthStatus;
  readonly addReflection: () => Promise<void>;
}

/**
 * A server carrying ApprovalService, health and reflection, and AccessService only when
 * `withAccess`: a listener without it answers UNIMPLEMENTED before any handler runs.
 */
function createListener(options: GrpcServerOptions, services: Services, withAccess: boolean): Listener {
  const { proto, packageDefinition } = loadJitgateProto();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': options.limits.maxMessageBytes });
  const names = withAccess ? [ACCESS_SERVICE, APPROVAL_SERVICE] : [APPROVAL_SERVICE];
  const health = addHealth(server, names);
  if (withAccess) server.addService(tolerantDecoding(proto.jitgate.v1.AccessService.service), services.access);
  server.addService(tolerantDecoding(proto.jitgate.v1.ApprovalService.service), services.approval);
  return { server, health, addReflection: reflectionAdder(server, packageDefinition, names) };
}

/** Stops accepting and waits for in-flight calls until the deadline, then aborts open streams and forces the close. */
function drain(servers: readonly grpc.Server[], clock: Clock, streams: StreamRegistries, deadlineMs: number): Promise<void> {
  // Watch streams never end by themselves; draining would always hit the deadline.
  for (const controller of streams.watch) controller.abort();
  return new Promise<void>((resolve) => {
    let open = servers.length;
    const timer = clock.setTimeout(() => {
      // Streams still open at the deadline are aborted so their gate work is cancelled, not abandoned.
      for (const controller of streams.access) controller.abort();
      for (const server of servers) server.forceShutdown();
      resolve();
    }, deadlineMs);
    for (const server of servers) {
      server.tryShutdown(() => {
        if (--open > 0) return;
        clock.clearTimeout(timer);
        resolve();
      });
    }
  });
}

/**
 * The daemon's gRPC edge. The Unix socket carries AccessService and ApprovalService; TCP+TLS
 * (remote approvers) carries ApprovalService, and AccessService only with `listen.tcp.access`.
 * Both carry health and reflection. The servers share handlers and stream registries.
 */
export function createGrpcServer(options: GrpcServerOptions): GrpcServerHandle {
  const { listen, clock } = options;
  const streams: StreamRegistries = { access: new Set(), watch: new Set() };
  const services = createServices(options, streams);
  const unix = createListener(options, services, true);
  const tcp = listen.tcp ? createListener(options, services, listen.tcp.access) : undefined;
  const listeners = tcp ? [unix, tcp] : [unix];
  let started = false;
  let activated: ActivatedSocket | undefined;
  const addReflection = async (): Promise<void> => {
    for (const listener of listeners) await listener.addReflection();
  };

  return {
    addReflection,
    async start() {
      if (options.deferReflection !== true) await addReflection();
      if (options.socketFd === undefined) {
        await bindSocket(unix.server, listen, () => {
          started = true;
        });
      } else {
        activated = await serveActivatedSocket(unix.server, options.socketFd, (err) => {
          options.logger.error({ err: err.message }, 'accepting a connection on the activated socket failed');
        });
        options.logger.info({ fd: options.socketFd }, 'serving the socket passed by systemd (LISTEN_FDS)');
      }
      if (tcp) await bindTcp(tcp.server, listen);
      if (listen.tcp?.access === true) {
        options.logger.warn({ tcp: listen.tcp.address }, 'listen.tcp.access is on: credentials can be requested over TCP, from off the host');
      }
      options.logger.info({ socket: listen.socket, activated: activated !== undefined, tcp: listen.tcp?.address }, 'gRPC listening');
    },
    setServing: (serving) => {
      for (const listener of listeners) listener.health.setServing(serving);
    },
    async shutdown(deadlineMs) {
      for (const listener of listeners) listener.health.setServing(false);
      activated?.close();
      await drain(
        listeners.map((l) => l.server),
        clock,
        streams,
        deadlineMs,
      );
      if (started) await unlink(listen.socket).catch(() => undefined);
    },
  };
}
