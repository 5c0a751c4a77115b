import * as grpc from '@grpc/grpc-js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { LimitsConfig } from '../config/types.js';
import { Call, logFailure, type CallContext } from './call-context.js';
import { checkMetadataSize } from './metadata.js';
import { errorCodeTrailer, toServiceError } from './status.js';
import { assertDecoded } from './undecodable-request.js';

/** A unary handler: the domain work of one RPC, with no transport concerns. */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

/**
 * A server-streaming handler. It resolves when the stream should end, optionally with trailing
 * metadata for the end (e.g. the code of a denial), which travels with the OK status.
 */
export type StreamHandler<Req, Res> = (request: Req, ctx: CallContext, write: (message: Res) => void) => Promise<grpc.Metadata | undefined>;

export interface RpcAdapters {
  /** Wraps a handler as a grpc-js unary call: metadata check, default deadline, cancellation, error mapping. */
  readonly unary: <Req, Res>(method: string, fn: UnaryHandler<Req, Res>) => grpc.handleUnaryCall<Req, Res>;
  /** Wraps a handler as a grpc-js server stream, registering its controller in `registry` while it runs. */
  readonly serverStream: <Req, Res>(
    method: string,
    registry: Set<AbortController>,
    fn: StreamHandler<Req, Res>,
  ) => grpc.handleServerStreamingCall<Req, Res>;
}

export interface RpcAdapterOptions {
  readonly logger: Logger;
  readonly limits: LimitsConfig;
  readonly clock: Clock;
}

/** The transport side of every RPC, shared by all handlers; `rpc` numbers in logs count per server. */
export function createRpcAdapters(options: RpcAdapterOptions): RpcAdapters {
  let rpcSeq = 0;
  const newCall = (method: string, metadata: grpc.Metadata, signal: AbortSignal): Call =>
    new Call(options.logger, ++rpcSeq, method, metadata, signal);
  return {
    unary: (method, fn) => unaryCall(options, method, fn, newCall),
    serverStream: (method, registry, fn) => streamCall(options, method, registry, fn, newCall),
  };
}

type NewCall = (method: string, metadata: grpc.Metadata, signal: AbortSignal) => Call;

function deadlineExceeded(): grpc.ServerErrorResponse {
  return {
    name: 'Error',
    message: 'deadline exceeded',
    code: grpc.status.DEADLINE_EXCEEDED,
    details: 'deadline exceeded',
    metadata: errorCodeTrailer('ERR_UNAVAILABLE'),
  };
}

/**
 * The abort reason of every call whose peer is gone, made once: `abort()` without a reason builds a
 * DOMException (and captures a stack) per call, and every stream aborts when it closes; the profile
 * showed it at over 1% of the daemon's time.
 */
const PEER_GONE = new DOMException('the client is gone', 'AbortError');
const DEADLINE = new DOMException('the default deadline passed', 'AbortError');

function unaryCall<Req, Res>(
  { limits, clock }: RpcAdapterOptions,
  method: string,
  fn: UnaryHandler<Req, Res>,
  newCall: NewCall,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const controller = new AbortController();
    const ctx = newCall(method, call.metadata, controller.signal);
    let done = false;
    let timer: TimerHandle | undefined;
    const finish = (err: grpc.ServerErrorResponse | null, value?: Res): void => {
      if (done) return;
      done = true;
      if (timer) clock.clearTimeout(timer);
      callback(err, value);
    };
    call.on('cancelled', () => {
      controller.abort(PEER_GONE);
      done = true;
      if (timer) clock.clearTimeout(timer);
    });
    if (call.getDeadline() === Infinity) {
      timer = clock.setTimeout(() => {
        controller.abort(DEADLINE);
        ctx.log.info({ deadlineMs: limits.defaultRpcDeadlineMs }, 'default deadline exceeded');
        finish(deadlineExceeded());
      }, limits.defaultRpcDeadlineMs);
      timer.unref();
    }
    (async () => {
      checkMetadataSize(call.metadata, limits.maxMetadataBytes);
      assertDecoded(call.request);
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

function streamCall<Req, Res>(
  { limits }: RpcAdapterOptions,
  method: string,
  registry: Set<AbortController>,
  fn: StreamHandler<Req, Res>,
  newCall: NewCall,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const controller = new AbortController();
    const ctx = newCall(method, call.metadata, controller.signal);
    registry.add(controller);
    const gone = (): void => {
      controller.abort(PEER_GONE);
    };
    // Either event means the peer will read no more: the step died or gave up, so its work must stop.
    call.on('cancelled', gone);
    call.on('close', gone);
    const write = (message: Res): void => {
      if (!controller.signal.aborted) call.write(message);
    };
    // No async wrapper here: a stream may stay open for hours, and every suspended async frame
    // between the transport and the gate is held for as long.
    let run: Promise<grpc.Metadata | undefined>;
    try {
      checkMetadataSize(call.metadata, limits.maxMetadataBytes);
      assertDecoded(call.request);
      run = fn(call.request, ctx, write);
    } catch (err) {
      run = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // One reaction, not then+finally: each is held per open stream.
    run.then(
      (trailer) => {
        registry.delete(controller);
        if (!controller.signal.aborted) call.end(trailer);
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
