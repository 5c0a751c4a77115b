import type * as grpc from '@grpc/grpc-js';
import { JitgateError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { INTERNAL_DETAILS, toGrpcStatus } from './status.js';

/** What a handler gets of its call: a logger, the caller's metadata, and a signal that aborts when the call is gone. */
export interface CallContext {
  readonly log: Logger;
  readonly metadata: grpc.Metadata;
  readonly signal: AbortSignal;
}

/**
 * The call-context step. A class, not an object literal with a getter: one object per call
 * instead of several closures, which adds up with thousands of open streams. The call's child
 * logger is made on first use: most calls never log, and a pino child per call is not free.
 */
export class Call implements CallContext {
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
export function logFailure(log: Logger, err: unknown): void {
  const { code, details } = toGrpcStatus(err);
  if (details === INTERNAL_DETAILS || !(err instanceof JitgateError)) {
    log.error({ err }, 'rpc failed with an internal error');
  } else {
    log.info({ code, errorCode: err.code }, 'rpc refused');
  }
}
