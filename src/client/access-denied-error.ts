import { JitgateError } from '../common/errors.js';
import type { ErrorCode } from '../model/error-codes.js';

/** The request ended without credentials: a denial (policy, approver, shutdown) or expiry without a decision. */
export class AccessDeniedError extends JitgateError {
  static override readonly genericCode: ErrorCode = 'ERR_ACCESS_DENIED';

  constructor(
    /** `denied` or `expired`. */
    readonly outcome: 'denied' | 'expired',
    /** One-line reason from the daemon. */
    readonly reason: string,
    /** The request's id, for `jitgate show`. */
    readonly requestId: string,
    /**
     * The daemon's code (`POLICY_NO_MATCH`, `DENIED_BY_APPROVER`, ...) from the stream's trailers.
     * Without one (an older daemon): `EXPIRED` for an expiry, else the generic `ERR_ACCESS_DENIED`.
     */
    code?: ErrorCode,
  ) {
    const known = code ?? (outcome === 'expired' ? 'EXPIRED' : undefined);
    super(`access ${outcome}${reason ? `: ${reason}` : ''} (request ${requestId || 'unknown'})`, known === undefined ? undefined : { code: known });
  }
}
