import type * as grpc from '@grpc/grpc-js';
import { JitgateError, UnavailableError } from '../common/errors.js';
import type { AccessUpdate__Output } from '../generated/jitgate/v1/AccessUpdate.js';
import { AccessDeniedError } from './access-denied-error.js';
import { toRequestInfo, toStatus } from './convert.js';
import { StreamGrant, type Grant } from './grant.js';
import { fromGrpcError } from './grpc-errors.js';
import type { AccessProgress } from './types.js';
import { errorCodeFromMetadata } from './wire-error-code.js';

/**
 * How long a denial waits for the stream's status, which carries its code. The daemon ends the
 * stream right after the final update, so this only matters if it does not: the denial must not hang.
 */
const DENIAL_STATUS_WAIT_MS = 2_000;

export interface AwaitGrantOptions {
  readonly signal: AbortSignal | undefined;
  readonly onUpdate: ((update: AccessProgress) => void) | undefined;
  readonly release: (grantId: string, releaseToken: string) => Promise<void>;
}

interface Denial {
  readonly outcome: 'denied' | 'expired';
  readonly reason: string;
  readonly requestId: string;
}

/**
 * Follows one RequestAccess stream: resolves with the grant at GRANTED, rejects with
 * `AccessDeniedError` at DENIED/EXPIRED (its code from the stream's trailers, read off the
 * 'status' event) or with the typed error of a failed stream. After the grant, the stream's end
 * settles the grant instead.
 */
export function awaitGrant(call: grpc.ClientReadableStream<AccessUpdate__Output>, options: AwaitGrantOptions): Promise<Grant> {
  const { signal, onUpdate } = options;
  return new Promise<Grant>((resolve, reject) => {
    let grant: StreamGrant | undefined;
    let denial: Denial | undefined;
    let settled = false;
    let denialTimer: NodeJS.Timeout | undefined;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      if (denialTimer) clearTimeout(denialTimer);
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
      reject(err instanceof Error ? err : new JitgateError(String(err)));
    };
    const onAbort = (): void => {
      fail(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const deny = (metadata: grpc.Metadata | undefined): void => {
      if (!denial) return;
      fail(new AccessDeniedError(denial.outcome, denial.reason, denial.requestId, errorCodeFromMetadata(metadata)));
    };

    call.on('data', (update: AccessUpdate__Output) => {
      let progress: AccessProgress;
      try {
        progress = { state: toStatus(update.state), reason: update.reason, request: toRequestInfo(update.request) };
      } catch (err) {
        if (grant) grant.settle({ outcome: 'lost', error: err instanceof JitgateError ? err : new JitgateError(String(err)) });
        else fail(err);
        return;
      }
      try {
        onUpdate?.(progress);
      } catch {
        // A throwing progress callback must not leave credentials orphaned or the request hanging.
      }
      if (grant) {
        if (progress.state === 'released') grant.settle({ outcome: 'released' });
        return;
      }
      if (denial || settled) return;
      if (progress.state === 'granted') {
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        grant = new StreamGrant(update, progress.request.id, call, options.release);
        resolve(grant);
      } else if (progress.state === 'denied' || progress.state === 'expired') {
        denial = { outcome: progress.state, reason: update.reason || progress.request.statusReason || '', requestId: progress.request.id };
        denialTimer = setTimeout(deny, DENIAL_STATUS_WAIT_MS, undefined);
        denialTimer.unref();
      }
    });
    // grpc-js emits 'status' (with the trailers) before 'end', and after 'error' for a failed status.
    call.on('status', (status: grpc.StatusObject) => {
      deny(status.metadata);
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (grant) grant.settle({ outcome: 'lost', error: fromGrpcError(err) });
      else if (denial) deny(err.metadata);
      else fail(fromGrpcError(err));
    });
    call.on('end', () => {
      if (grant) grant.settle({ outcome: 'lost', error: new UnavailableError('jitgated ended the grant') });
      else if (denial) deny(undefined);
      else fail(new UnavailableError('jitgated ended the request without a decision'));
    });
  });
}
