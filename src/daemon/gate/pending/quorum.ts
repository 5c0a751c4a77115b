import type { ErrorCode } from '../../../model/error-codes.js';
import type { ApproverIdentity, RequestContext } from '../../../model/context.js';
import { approverAllowed } from '../../policy/index.js';
import { approvalList, type PendingEntry } from './pending-entry.js';

/**
 * What the quorum rules read of a request: its record, rule, current approvers and the decisions
 * so far. A pending entry in memory is one; a fleet request read from PostgreSQL makes another.
 */
export type QuorumState = Pick<PendingEntry, 'request' | 'require' | 'approvers' | 'approvals' | 'groups' | 'people'>;

/**
 * Lower-cased subject and name: the verified identifiers one person shows up under (an IdP's `sub`
 * and verified name, a channel's configured mapping). Never the aliases: those are names people
 * choose themselves, and one who called themself `bob` must not make bob's own approval not count.
 */
export function identityKeys(who: ApproverIdentity): ReadonlySet<string> {
  return new Set([who.subject, who.name].filter((k) => k !== '').map((k) => k.toLowerCase()));
}

/** Whether this person has already approved, whichever channel and identifier they used then. */
export function alreadyApproved(entry: QuorumState, approver: ApproverIdentity, keys: ReadonlySet<string>): boolean {
  return Boolean(entry.approvals?.has(approver.subject)) || [...(entry.people?.values() ?? [])].some((k) => [...keys].some((key) => k.has(key)));
}

/** Whether the approver, under any name they are known by, is the run's actor or commit author. */
export function isRequester(context: RequestContext, approver: ApproverIdentity): boolean {
  const names = [approver.subject, approver.name, ...approver.aliases].map((n) => n.toLowerCase());
  const requesters = [context.actor, context.commitAuthor].filter((n): n is string => Boolean(n)).map((n) => n.toLowerCase());
  return requesters.some((r) => names.includes(r));
}

/** Why this approver may not take this action on this request, or undefined when they may. */
export function approverRefusal(
  entry: QuorumState,
  approver: ApproverIdentity,
  action: 'approve' | 'deny',
): { readonly reason: string; readonly code: ErrorCode } | undefined {
  if (action === 'approve' && isRequester(entry.request.context, approver)) {
    return { reason: 'the requester cannot approve their own request', code: 'SELF_APPROVAL' };
  }
  if (!approverAllowed(entry.approvers, approver)) {
    return { reason: `${approver.name} is not allowed to ${action} this request (allowed: ${entry.approvers.join(', ')})`, code: 'NOT_AN_APPROVER' };
  }
  return undefined;
}

/** Enough distinct approvals, and with `every_group` at least one from each listed principal. */
export function quorumMet(entry: QuorumState): boolean {
  const approvals = approvalList(entry).filter((a) => a.decision === 'approve');
  if (approvals.length < entry.require.approvals) return false;
  if (!entry.require.everyGroup) return true;
  return entry.require.from.every((principal) =>
    approvals.some((a) =>
      approverAllowed([principal], { subject: a.subject, name: a.name, groups: entry.groups?.get(a.subject) ?? [], aliases: [], trust: a.trust }),
    ),
  );
}
