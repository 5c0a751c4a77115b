import type * as grpc from '@grpc/grpc-js';
import { NotFoundError, type JitgateError } from '../common/errors.js';
import type { AccessUpdate__Output } from '../generated/jitgate/v1/AccessUpdate.js';

/** How a grant ended: released by its holder, or lost (the daemon revoked it or the connection broke). */
export interface GrantEnd {
  readonly outcome: 'released' | 'lost';
  /** Why it was lost; absent for `released`. */
  readonly error?: JitgateError;
}

/**
 * Credentials held by a step. Holding the grant keeps its RequestAccess stream open; the daemon
 * revokes the credentials when the grant is released or the stream breaks (the step died).
 */
export interface Grant extends AsyncDisposable {
  readonly id: string;
  readonly requestId: string;
  /** Environment variable name → secret value. Never log these. */
  readonly credentials: Readonly<Record<string, string>>;
  /** The latest moment the credentials are valid (their TTL). */
  readonly expiresAt: Date;
  /** Revokes the credentials now. Idempotent: later calls return the first call's promise. */
  release(): Promise<void>;
  /** Settles (never rejects) when the grant ends, by `release()` or because the daemon ended it. */
  readonly ended: Promise<GrantEnd>;
}

type ReleaseRpc = (grantId: string, releaseToken: string) => Promise<void>;

/** @internal Built by `JitgateClient.request` from the GRANTED update. */
export class StreamGrant implements Grant {
  readonly id: string;
  readonly requestId: string;
  readonly credentials: Readonly<Record<string, string>>;
  readonly expiresAt: Date;
  readonly ended: Promise<GrantEnd>;
  readonly #releaseToken: string;
  readonly #call: grpc.ClientReadableStream<AccessUpdate__Output>;
  readonly #releaseRpc: ReleaseRpc;
  #resolveEnded!: (end: GrantEnd) => void;
  #end: GrantEnd | undefined;
  #releasing: Promise<void> | undefined;

  constructor(update: AccessUpdate__Output, requestId: string, call: grpc.ClientReadableStream<AccessUpdate__Output>, releaseRpc: ReleaseRpc) {
    const g = update.grant;
    this.id = g?.grantId ?? '';
    this.requestId = requestId;
    this.credentials = Object.freeze({ ...(g?.credentials ?? {}) });
    this.expiresAt = new Date(Number(g?.expiresAtMs ?? 0));
    this.#releaseToken = g?.releaseToken ?? '';
    this.#call = call;
    this.#releaseRpc = releaseRpc;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
  }

  /** @internal The stream reported the end of the grant (RELEASED, end of stream, or an error). */
  settle(end: GrantEnd): void {
    if (this.#end) return;
    // Once release() started, any ending of the stream is the release completing.
    this.#end = this.#releasing ? { outcome: 'released' } : end;
    this.#resolveEnded(this.#end);
  }

  release(): Promise<void> {
    this.#releasing ??= this.#doRelease();
    return this.#releasing;
  }

  async #doRelease(): Promise<void> {
    if (this.#end) return;
    try {
      await this.#releaseRpc(this.id, this.#releaseToken);
    } catch (err) {
      // Already revoked by the daemon (TTL, shutdown): the goal of release is met.
      if (!(err instanceof NotFoundError)) throw err;
    } finally {
      // Closing the stream is itself a revoke signal, so even a failed Release call fails closed.
      this.#call.cancel();
      this.settle({ outcome: 'released' });
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
