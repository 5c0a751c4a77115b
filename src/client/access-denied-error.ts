import { JitgateError } from '../common/errors.js';

/** The request ended without credentials: a denial (policy, approver, shutdown) or expiry without a decision. */
export class AccessDeniedError extends JitgateError {
  override readonly code = 'ERR_ACCESS_DENIED';

  constructor(
    /** `denied` or `expired`. */
    readonly outcome: 'denied' | 'expired',
    /** One-line reason from the daemon. */
    readonly reason: string,
    /** The request's id, for `jitgate show`. */
    readonly requestId: string,
  ) {
    super(`access ${outcome}${reason ? `: ${reason}` : ''} (request ${requestId || 'unknown'})`);
  }
}
