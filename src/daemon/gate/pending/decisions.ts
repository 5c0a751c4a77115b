import type { ErrorCode } from '../../../model/error-codes.js';
import { ConflictError, errorMessage, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnavailableError } from '../../../common/errors.js';
import { hasControlChars } from '../../../common/text.js';
import type { ApproverIdentity } from '../../../model/context.js';
import { approverSummary, decider } from '../../../common/decision-text.js';
import { channelFromTrust, type ApprovalChannel, type ApprovalView, type RequestView } from '../../../model/request.js';
import type { DecisionOptions } from '../types.js';
import type { StoredRequest } from '../../state/store.js';
import type { GateCore } from '../gate-core.js';
import { approvalList, pendingView, type PendingEntry } from './pending-entry.js';
import type { PendingRequests } from './pending-requests.js';
import type { RunScopes } from '../run-scope.js';
import { stepUpRefusal } from '../step-up.js';
import { alreadyApproved, approverRefusal, identityKeys, quorumMet } from './quorum.js';

/** Free text from approvers reaches terminals, mail and Slack: no control characters, bounded length. */
export function plainText(field: string, value: string): void {
  if (hasControlChars(value)) throw new InvalidArgumentError(field, 'must not contain control characters');
  if (value.length > 1024) throw new InvalidArgumentError(field, 'longer than 1024 characters');
}

/** What an approver may do to a pending request. */
export type DecisionAction = 'approve' | 'deny' | 'break-glass';

export function auditedApprover(approver: ApproverIdentity): { subject: string; name: string; trust: ApproverIdentity['trust'] } {
  return { subject: approver.subject, name: approver.name, trust: approver.trust };
}

/** The edge that took the decision names its channel; a caller that does not is judged by trust. */
export function channelOf(approver: ApproverIdentity, options: DecisionOptions): ApprovalChannel {
  return options.channel ?? channelFromTrust(approver.trust);
}

/**
 * Approvers' decisions on pending requests. Each runs under the request's lock, checks who decides
 * (self-approval, allowed principals), records the decision in audit and state, and ends the
 * request when the quorum is met or anyone denies.
 */
export class Decisions {
  readonly #core: GateCore;
  readonly #pending: PendingRequests;
  readonly #scopes: RunScopes;

  constructor(core: GateCore, pending: PendingRequests, scopes: RunScopes) {
    this.#core = core;
    this.#pending = pending;
    this.#scopes = scopes;
  }

  async approve(id: string, approver: ApproverIdentity, options: DecisionOptions = {}): Promise<RequestView> {
    const { comment } = options;
    if (comment !== undefined) plainText('comment', comment);
    const entry = await this.pendingOrExplain(id, approver, 'approve');
    return this.#pending.withLock(entry, async () => {
      if (entry.request.status !== 'pending') {
        return this.lateDecision(entry.request, approver, 'approve');
      }
      await this.#checkApprover(entry, approver, 'approve');
      const approval: ApprovalView = {
        ...auditedApprover(approver),
        channel: channelOf(approver, options),
        decision: 'approve',
        ...(comment ? { comment } : {}),
        at: this.#core.clock.now(),
      };
      // One person counts once, whichever channel (CLI, IdP, Slack, webhook) and identifier they used.
      const keys = identityKeys(approver);
      if (alreadyApproved(entry, approver, keys)) return pendingView(this.#core.views, entry);
      if (await this.#recordApproval(entry, approval, comment)) {
        (entry.approvals ??= new Map()).set(approver.subject, approval);
        (entry.groups ??= new Map()).set(approver.subject, approver.groups);
        (entry.people ??= new Map()).set(approver.subject, keys);
      }
      if (quorumMet(entry)) {
        await this.#pending.finish(entry, { status: 'approved', reason: `approved by ${approverSummary(approvalList(entry), false)}` });
        this.#rememberScope(entry);
      } else {
        entry.outcomes.push({ kind: 'progress' });
        this.#core.views.emit('approval', pendingView(this.#core.views, entry));
      }
      return pendingView(this.#core.views, entry);
    });
  }

  /**
   * `approval_scope: run`: a quorum of approvers (only here: never policy, never any other path)
   * covers the rest of the run for `scope_ttl`, once the approval is on record.
   */
  #rememberScope(entry: PendingEntry): void {
    const scope = entry.require.approvalScope;
    const { request } = entry;
    if (!scope || request.status !== 'approved') return;
    this.#scopes.remember({ resource: request.resource, rule: request.rule, context: request.context }, request.id, scope.ttlMs);
  }

  /** Audit first (an approval that is not on record must not count), then state. */
  async #recordApproval(entry: PendingEntry, approval: ApprovalView, comment: string | undefined): Promise<boolean> {
    const { audit, store } = this.#core;
    try {
      await audit.orFail({
        type: 'approval.recorded',
        requestId: entry.request.id,
        trust: entry.request.context.trust,
        approver: { subject: approval.subject, name: approval.name, trust: approval.trust },
        channel: approval.channel,
        ...(comment ? { comment } : {}),
      });
      return await store.addApproval({ ...approval, requestId: entry.request.id });
    } catch (err) {
      throw err instanceof UnavailableError ? err : new UnavailableError('state store unavailable', { cause: err, code: 'STATE_UNAVAILABLE' });
    }
  }

  async deny(id: string, approver: ApproverIdentity, reason: string, options: Pick<DecisionOptions, 'channel'> = {}): Promise<RequestView> {
    plainText('reason', reason);
    const entry = await this.pendingOrExplain(id, approver, 'deny');
    return this.#pending.withLock(entry, async () => {
      if (entry.request.status !== 'pending') {
        return this.lateDecision(entry.request, approver, 'deny');
      }
      await this.#checkApprover(entry, approver, 'deny');
      const denial: ApprovalView = {
        ...auditedApprover(approver),
        channel: channelOf(approver, options),
        decision: 'deny',
        comment: reason,
        at: this.#core.clock.now(),
      };
      await this.#core.audit.safe({
        type: 'approval.denied',
        requestId: id,
        trust: entry.request.context.trust,
        approver: auditedApprover(approver),
        channel: denial.channel,
        reason,
      });
      try {
        await this.#core.store.addApproval({ ...denial, requestId: id });
      } catch (err) {
        this.#core.log.error({ requestId: id, err: errorMessage(err) }, 'could not store denial');
      }
      (entry.approvals ??= new Map()).set(`deny:${approver.subject}`, denial);
      await this.#pending.finish(entry, { status: 'denied', reason: `denied by ${decider(denial, false)}: ${reason}`, code: 'DENIED_BY_APPROVER' });
      return pendingView(this.#core.views, entry);
    });
  }

  /** Finds the in-memory pending entry, or explains (and audits) why the decision is refused. */
  async pendingOrExplain(id: string, approver: ApproverIdentity, action: DecisionAction): Promise<PendingEntry> {
    const entry = this.#pending.get(id);
    if (entry) return entry;
    const stored = await this.#core.store.getRequest(id);
    if (!stored) throw new NotFoundError(`no request ${JSON.stringify(id)}`, { code: 'REQUEST_NOT_FOUND' });
    return this.lateDecision(stored, approver, action);
  }

  lateDecision(request: StoredRequest, approver: ApproverIdentity, action: DecisionAction): Promise<never> {
    return refuseLate(this.#core, request, approver, action);
  }

  async #checkApprover(entry: PendingEntry, approver: ApproverIdentity, action: 'approve' | 'deny'): Promise<void> {
    const refusal =
      approverRefusal(entry, approver, action) ??
      (action === 'approve' ? stepUpRefusal(this.#core.config.resources[entry.request.resource], approver, this.#core.clock.now()) : undefined);
    if (refusal) await refuseApprover(this.#core, entry.request, approver, action, refusal);
  }
}

/** A decision on a request that is no longer pending: audited, then refused (ALREADY_DECIDED). */
export async function refuseLate(core: GateCore, request: StoredRequest, approver: ApproverIdentity, action: DecisionAction): Promise<never> {
  await core.audit.safe({
    type: 'approval.late',
    requestId: request.id,
    trust: request.context.trust,
    action,
    status: request.status,
    approver: auditedApprover(approver),
  });
  throw new ConflictError(`request ${request.id} is already ${request.status}; nothing changed`, { code: 'ALREADY_DECIDED' });
}

/** An approver the rules refuse (self-approval, not allowed, step-up): audited, then refused. */
export async function refuseApprover(
  core: GateCore,
  request: StoredRequest,
  approver: ApproverIdentity,
  action: 'approve' | 'deny',
  refusal: { readonly reason: string; readonly code: ErrorCode },
): Promise<never> {
  await core.audit.safe({
    type: 'approval.rejected',
    requestId: request.id,
    trust: request.context.trust,
    action,
    approver: auditedApprover(approver),
    reason: refusal.reason,
  });
  throw new PermissionDeniedError(refusal.reason, { code: refusal.code });
}
