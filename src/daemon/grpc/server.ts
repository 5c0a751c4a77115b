import { chmod, readFile, unlink } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { JitgateError, UnavailableError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { LimitsConfig, ListenConfig } from '../config/types.js';
import type { ApproverResolver, Gate } from '../gate/types.js';
import type { AccessRequest__Output } from '../../generated/jitgate/v1/AccessRequest.js';
import type { AccessServiceHandlers } from '../../generated/jitgate/v1/AccessService.js';
import type { ApprovalServiceHandlers } from '../../generated/jitgate/v1/ApprovalService.js';
import type { AccessUpdate as WireAccessUpdate } from '../../generated/jitgate/v1/AccessUpdate.js';
import type { RequestEvent } from '../../generated/jitgate/v1/RequestEvent.js';
import type { WatchRequestsRequest__Output } from '../../generated/jitgate/v1/WatchRequestsRequest.js';
import { toWireRequest, toWireUpdate } from './convert.js';
import { loadJitgateProto, PROTO_LOADER_OPTIONS } from './load-proto.js';
import { checkMetadataSize, metadataRecord } from './metadata.js';
import { removeStaleSocket } from './socket.js';
import { INTERNAL_DETAILS, toServiceError } from './status.js';
import { checkComment, checkDenyReason, checkRelease, checkRequestId, toAccessInput, toStatuses } from './validate.js';

export const ACCESS_SERVICE = 'jitgate.v1.AccessService';
export const APPROVAL_SERVICE = 'jitgate.v1.ApprovalService';

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

interface CallContext {
  readonly log: Logger;
  readonly metadata: grpc.Metadata;
  readonly signal: AbortSignal;
}

/**
 * What a handler gets of its call. A class, not an object literal with a getter: one object per
 * call instead of several closures, which adds up with thousands of open streams. The call's child
 * logger is made on first use: most calls never log, and a pino child per call is not free.
 */
class Call implements CallContext {
  readonly #root: Logger;
  readonly #rpc: number;
  readonly #method: string;
  #log: Logger | undefined;

  constructor(
    root: Logger,
    rpc: number,
    method: string,
    readonly metadata: grpc.Metadata,
    readonly signal: AbortSignal,
  ) {
    this.#root = root;
    this.#rpc = rpc;
    this.#method = method;
  }

  get log(): Logger {
    return (this.#log ??= this.#root.child({ rpc: this.#rpc, method: this.#method }));
  }
}

/** Logs a failed call at the right level: domain refusals are routine; anything else is a bug or outage. */
function logFailure(log: Logger, err: unknown): void {
  const { code, details } = toServiceError(err);
  if (details === INTERNAL_DETAILS || !(err instanceof JitgateError)) {
    log.error({ err }, 'rpc failed with an internal error');
  } else {
    log.info({ code, errorCode: err.code }, 'rpc refused');
  }
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServerHandle {
  const { gate, approvers, listen, limits, clock } = options;
  const { packageDefinition, proto } = loadJitgateProto();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': limits.maxMessageBytes });

  const health = new HealthImplementation({ '': 'NOT_SERVING', [ACCESS_SERVICE]: 'NOT_SERVING', [APPROVAL_SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  let reflecting = false;
  const addReflection = async (): Promise<void> => {
    if (reflecting) return;
    reflecting = true;
    const { ReflectionService } = await import('@grpc/reflection');
    // Health goes into the reflection set too, so grpcurl and friends can discover everything served.
    const healthDefinition = protoLoader.loadSync(healthProtoPath, PROTO_LOADER_OPTIONS);
    new ReflectionService({ ...packageDefinition, ...healthDefinition }).addToServer(server);
  };

  let rpcSeq = 0;
  // Streams still open at the shutdown deadline are aborted so their gate work is cancelled, not abandoned.
  const openStreams = new Set<AbortController>();
  const watchStreams = new Set<AbortController>();
  let started = false;

  function unary<Req, Res>(
    method: string,
    fn: (request: Req, ctx: CallContext) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const controller = new AbortController();
      const ctx = new Call(options.logger, ++rpcSeq, method, call.metadata, controller.signal);
      let done = false;
      let timer: TimerHandle | undefined;
      const finish = (err: grpc.ServerErrorResponse | null, value?: Res): void => {
        if (done) return;
        done = true;
        if (timer) clock.clearTimeout(timer);
        callback(err, value);
      };
      call.on('cancelled', () => {
        controller.abort();
        done = true;
        if (timer) clock.clearTimeout(timer);
      });
      if (call.getDeadline() === Infinity) {
        timer = clock.setTimeout(() => {
          controller.abort();
          ctx.log.info({ deadlineMs: limits.defaultRpcDeadlineMs }, 'default deadline exceeded');
          finish({ name: 'Error', message: 'deadline exceeded', code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline exceeded' });
        }, limits.defaultRpcDeadlineMs);
        timer.unref();
      }
      (async () => {
        checkMetadataSize(call.metadata, limits.maxMetadataBytes);
        return fn(call.request, ctx);
      })().then(
        (value) => {
          finish(null, value);
        },
        (err: unknown) => {
          logFailure(ctx.log, err);
          finish(toServiceError(err));
        },
      );
    };
  }

  function serverStream<Req, Res>(
    method: string,
    registry: Set<AbortController>,
    fn: (request: Req, ctx: CallContext, write: (message: Res) => void) => Promise<void>,
  ): grpc.handleServerStreamingCall<Req, Res> {
    return (call) => {
      const controller = new AbortController();
      const ctx = new Call(options.logger, ++rpcSeq, method, call.metadata, controller.signal);
      registry.add(controller);
      const gone = (): void => {
        controller.abort();
      };
      // Either event means the peer will read no more: the step died or gave up, so its work must stop.
      call.on('cancelled', gone);
      call.on('close', gone);
      const write = (message: Res): void => {
        if (!controller.signal.aborted) call.write(message);
      };
      // No async wrapper here: a stream may stay open for hours, and every suspended async frame
      // between the transport and the gate is held for as long.
      let run: Promise<void>;
      try {
        checkMetadataSize(call.metadata, limits.maxMetadataBytes);
        run = fn(call.request, ctx, write);
      } catch (err) {
        run = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      // One reaction, not then+finally: each is held per open stream.
      run.then(
        () => {
          registry.delete(controller);
          if (!controller.signal.aborted) call.end();
          else ctx.log.debug('stream ended by the client');
        },
        (err: unknown) => {
          registry.delete(controller);
          if (controller.signal.aborted && !call.writable) return;
          logFailure(ctx.log, err);
          call.emit('error', toServiceError(err));
        },
      );
    };
  }

  const accessHandlers: AccessServiceHandlers = {
    RequestAccess: serverStream<AccessRequest__Output, WireAccessUpdate>(
      'RequestAccess',
      openStreams,
      async (request, ctx, write) => {
        const input = toAccessInput(request);
        // Per-update lines are debug: the gate logs one info line per grant, and that is the budget.
        const debug = options.logger.isLevelEnabled('debug');
        for await (const update of gate.requestAccess(input, ctx.signal)) {
          if (debug) ctx.log.debug({ resource: input.resource, requestId: update.request.id, state: update.kind }, 'access update');
          write(toWireUpdate(update));
          if (ctx.signal.aborted) break;
        }
      },
    ),
    Release: unary('Release', async (request, { log }) => {
      const { grantId, releaseToken } = checkRelease(request.grantId, request.releaseToken);
      await gate.release(grantId, releaseToken);
      log.debug({ grantId }, 'grant released');
      return {};
    }),
  };

  const approvalHandlers: ApprovalServiceHandlers = {
    ListRequests: unary('ListRequests', async (request, { metadata }) => {
      await approvers.resolve(metadataRecord(metadata));
      const statuses = toStatuses(request.statuses);
      const views = await gate.listRequests(statuses.length > 0 ? { statuses } : {});
      return { requests: views.map(toWireRequest) };
    }),
    GetRequest: unary('GetRequest', async (request, { metadata }) => {
      await approvers.resolve(metadataRecord(metadata));
      return toWireRequest(await gate.getRequest(checkRequestId(request.id)));
    }),
    WatchRequests: serverStream<WatchRequestsRequest__Output, RequestEvent>(
      'WatchRequests',
      watchStreams,
      async (_request, { metadata, signal }, write) => {
        await approvers.resolve(metadataRecord(metadata));
        for await (const view of gate.watchRequests(signal)) {
          write({ request: toWireRequest(view) });
          if (signal.aborted) break;
        }
      },
    ),
    Approve: unary('Approve', async (request, { metadata, log }) => {
      const approver = await approvers.resolve(metadataRecord(metadata));
      const id = checkRequestId(request.id);
      const comment = checkComment(request.comment);
      const view = await gate.approve(id, approver, comment);
      log.info({ requestId: id, approver: approver.subject }, 'approved');
      return toWireRequest(view);
    }),
    Deny: unary('Deny', async (request, { metadata, log }) => {
      const approver = await approvers.resolve(metadataRecord(metadata));
      const id = checkRequestId(request.id);
      const view = await gate.deny(id, approver, checkDenyReason(request.reason));
      log.info({ requestId: id, approver: approver.subject }, 'denied');
      return toWireRequest(view);
    }),
  };

  server.addService(proto.jitgate.v1.AccessService.service, accessHandlers);
  server.addService(proto.jitgate.v1.ApprovalService.service, approvalHandlers);

  const bind = (address: string, credentials: grpc.ServerCredentials): Promise<number> =>
    new Promise((resolve, reject) => {
      server.bindAsync(address, credentials, (err, port) => {
        if (err) reject(new UnavailableError(`cannot listen on ${address}`, { cause: err }));
        else resolve(port);
      });
    });

  return {
    addReflection,
    async start() {
      if (options.deferReflection !== true) await addReflection();
      await removeStaleSocket(listen.socket);
      await bind(`unix:${listen.socket}`, grpc.ServerCredentials.createInsecure());
      started = true;
      try {
        await chmod(listen.socket, listen.socketMode);
      } catch (err) {
        throw new UnavailableError(`cannot set the mode of ${listen.socket}`, { cause: err });
      }
      if (listen.tcp) {
        const { certFile, keyFile, clientCaFile } = listen.tcp.tls;
        let certs: [Buffer, Buffer, Buffer | null];
        try {
          certs = await Promise.all([readFile(certFile), readFile(keyFile), clientCaFile ? readFile(clientCaFile) : null]);
        } catch (err) {
          throw new UnavailableError('cannot read the TLS certificate or key', { cause: err });
        }
        const [cert, key, ca] = certs;
        await bind(listen.tcp.address, grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null));
      }
      options.logger.info({ socket: listen.socket, tcp: listen.tcp?.address }, 'gRPC listening');
    },

    setServing(serving) {
      const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
      for (const name of ['', ACCESS_SERVICE, APPROVAL_SERVICE]) health.setStatus(name, status);
    },

    async shutdown(deadlineMs) {
      this.setServing(false);
      // Watch streams never end by themselves; draining would always hit the deadline.
      for (const controller of watchStreams) controller.abort();
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(() => {
          for (const controller of openStreams) controller.abort();
          server.forceShutdown();
          resolve();
        }, deadlineMs);
        server.tryShutdown(() => {
          clock.clearTimeout(timer);
          resolve();
        });
      });
      if (started) {
        await unlink(listen.socket).catch(() => undefined);
      }
    },
  };
}
