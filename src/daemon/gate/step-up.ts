import { formatDuration } from '../../common/duration.js';
import type { ApproverIdentity } from '../../model/context.js';
import type { ErrorCode } from '../../model/error-codes.js';
import type { ResourceConfig } from '../config/types.js';

/**
 * Step-up for sensitive resources: a Slack button (or a webhook, or a long-lived session) is only as
 * strong as whatever keeps it signed in, so approving a `step_up` resource needs an IdP sign-in no
 * older than `max_age` (its `auth_time`), which the approval web page gets with a fresh login.
 * Denials never need it: refusing is always safe. Undefined when the approver may go ahead.
 */
export function stepUpRefusal(
  resource: ResourceConfig | undefined,
  approver: ApproverIdentity,
  nowMs: number,
): { readonly reason: string; readonly code: ErrorCode } | undefined {
  const stepUp = resource?.stepUp;
  if (stepUp === undefined) return undefined;
  const where = `approve it on the web page after signing in again (within ${formatDuration(stepUp.maxAgeMs)})`;
  if (approver.trust !== 'idp' || approver.authTime === undefined) {
    return { reason: `${resource?.name ?? 'this resource'} needs step-up: ${where}`, code: 'STEP_UP_REQUIRED' };
  }
  const age = nowMs - approver.authTime;
  if (age > stepUp.maxAgeMs) {
    return { reason: `${resource?.name ?? 'this resource'} needs step-up: your sign-in is ${formatDuration(age)} old; ${where}`, code: 'STEP_UP_REQUIRED' };
  }
  return undefined;
}
