import { ownValue } from '../../common/own-keys.js';
import type { Config } from '../config/types.js';
import type { StoredApproval, StoredRequest } from '../state/store.js';
import { quorumState } from './pending/fleet-decisions.js';
import { approverRefusal, quorumMet } from './pending/quorum.js';
import type { PolicyDecider } from './ports.js';
import { requestDigest } from './request-digest.js';

/**
 * `fleet.mint: plane`: why the approval plane must NOT mint for this request, or undefined when it
 * may. A runner's database role can write anything into its own request row (status, rule,
 * requirement), so nothing it wrote is trusted: the plane asks its own policy what the request
 * needs and counts the approvals (rows only the plane's role can write) against that.
 */
export function planeMintRefusal(
  policy: PolicyDecider,
  resources: Config['resources'],
  request: StoredRequest,
  approvals: readonly StoredApproval[],
): string | undefined {
  if (request.status !== 'approved') return `request is ${request.status}, not approved`;
  if (!ownValue(resources, request.resource)) return `unknown resource ${JSON.stringify(request.resource)}`;
  const decision = policy.decide(request.resource, request.context);
  if (decision.kind !== 'require') {
    return `the plane mints only what approvers approved, and rule ${decision.rule ?? '(none)'} says ${decision.kind}`;
  }
  if (approvals.some((a) => a.decision === 'deny')) return 'an approver denied it';
  // Approvers approved the request as it stood then; its runner may have rewritten the row since.
  const digest = requestDigest(request);
  if (approvals.some((a) => a.requestDigest !== digest)) return 'the request is not what its approvers approved (its row changed after the approval)';
  const state = quorumState(request, approvals, decision.require);
  for (const a of approvals) {
    const refusal = approverRefusal(state, { subject: a.subject, name: a.name, groups: a.groups ?? [], aliases: [], trust: a.trust }, 'approve');
    if (refusal) return `approval by ${a.name} does not count: ${refusal.reason}`;
  }
  if (!quorumMet(state)) return `${String(approvals.length)} approval(s) do not meet rule ${decision.rule}`;
  return undefined;
}
