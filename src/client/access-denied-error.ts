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
    /** The daemon's specific code (`POLICY_NO_MATCH`, `EXPIRED`, ...) when it sent one. */
    code?: ErrorCode,
  ) {
    super(`access ${outcome}${reason ? `: ${reason}` : ''} (request ${requestId || 'unknown'})`, code === undefined ? undefined : { code });
  }
}
