import { approverSummary, decider } from '../../../common/decision-text.js';
import { errorMessage, NotFoundError } from '../../../common/errors.js';
import type { ErrorCode } from '../../../model/error-codes.js';
import type { ApproverIdentity } from '../../../model/context.js';
import type { ApprovalView, RequestView } from '../../../model/request.js';
import type { RequireSpec } from '../../config/types.js';
import type { StoredApproval, StoredRequest } from '../../state/store.js';
import type { GateCore } from '../gate-core.js';
import type { FleetLedger, LedgerRow, LedgerWrite } from '../ports.js';
import type { RunScopes } from '../run-scope.js';
import { withoutRequestId } from '../request-views.js';
import { requestDigest } from '../request-digest.js';
import { stepUpRefusal } from '../step-up.js';
import type { DecisionOptions } from '../types.js';
import { auditedApprover, channelOf, plainText, refuseApprover, refuseLate } from './decisions.js';
import { approvalList } from './pending-entry.js';
import { approvalMap, type PendingRequests } from './pending-requests.js';
import { alreadyApproved, approverRefusal, identityKeys, quorumMet, type QuorumState } from './quorum.js';

/** How one decision under the row lock came out; audits and errors that need no lock follow it. */
type Verdict =
  | { readonly kind: 'late'; readonly request: StoredRequest }
  | { readonly kind: 'refused'; readonly request: StoredRequest; readonly reason: string; readonly code: ErrorCode }
  | { readonly kind: 'recorded'; readonly request: StoredRequest; readonly approvals: readonly StoredApproval[] };

/** The quorum rules' view of a stored request: its rule's approvers and its decisions so far. */
export type StoredQuorum = QuorumState & {
  approvals: Map<string, ApprovalView>;
  people: Map<string, ReadonlySet<string>>;
  groups: Map<string, readonly string[]>;
};

export function quorumState(request: StoredRequest, approvals: readonly StoredApproval[], required?: RequireSpec): StoredQuorum {
  const require = required ?? request.require;
  if (!require) throw new Error(`request ${request.id} is pending without a requirement`);
  const people = new Map<string, ReadonlySet<string>>();
  const groups = new Map<string, readonly string[]>();
  for (const a of approvals) {
    if (a.decision !== 'approve') continue;
    people.set(a.subject, identityKeys({ subject: a.subject, name: a.name, groups: [], aliases: [], trust: a.trust }));
    groups.set(a.subject, a.groups ?? []);
  }
  return { request, require, approvers: require.from, approvals: approvalMap(approvals), people, groups };
}

/**
 * Decisions in fleet mode (issue 13): whichever daemon an approver reaches, the decision is taken
 * under the request's row lock in the shared database, with the same rules as on one host —
 * self-approval, allowed approvers, step-up, one count per person, quorum, late decisions — counted
 * across the fleet. The decider audits the approval in its own log; the owner (woken by the
 * database) mints and hands out the credentials to its step.
 */
export class FleetDecisions {
  readonly #core: GateCore;
  readonly #ledger: FleetLedger;
  readonly #pending: PendingRequests;
  readonly #scopes: RunScopes;

  constructor(core: GateCore, ledger: FleetLedger, pending: PendingRequests, scopes: RunScopes) {
    this.#core = core;
    this.#ledger = ledger;
    this.#pending = pending;
    this.#scopes = scopes;
  }

  approve(id: string, approver: ApproverIdentity, options: DecisionOptions = {}): Promise<RequestView> {
    if (options.comment !== undefined) plainText('comment', options.comment);
    return this.#decide(id, approver, 'approve', options.comment, options);
  }

  deny(id: string, approver: ApproverIdentity, reason: string, options: Pick<DecisionOptions, 'channel'> = {}): Promise<RequestView> {
    plainText('reason', reason);
    return this.#decide(id, approver, 'deny', reason, options);
  }

  /**
   * Brings this daemon's pending request up to what the database says: decisions recorded through
   * other daemons, or its end. Returns whether anything changed. Other daemons' requests are only
   * shown to this daemon's watchers.
   */
  async sync(id: string): Promise<boolean> {
    const { store, views } = this.#core;
    const entry = this.#pending.get(id);
    if (!entry) {
      if (!views.watched) return false;
      const stored = await store.getRequest(id);
      if (stored) views.showWatchers(views.view(stored, (await store.listApprovals(id)).map(withoutRequestId), stored.require?.from ?? []));
      return false;
    }
    return this.#pending.withLock(entry, async () => {
      if (entry.request.status !== 'pending') return false;
      const [stored, approvals] = await Promise.all([store.getRequest(id), store.listApprovals(id)]);
      if (!stored) return false;
      if (stored.status !== 'pending') {
        this.#pending.conclude(entry, stored, approvals);
        this.#rememberScope(stored);
        return true;
      }
      if (approvals.length === (entry.approvals?.size ?? 0)) return false;
      const state = quorumState(stored, approvals);
      entry.approvals = state.approvals;
      entry.people = state.people;
      entry.groups = state.groups;
      entry.outcomes.push({ kind: 'progress' });
      views.emit('approval', this.#pending.view(entry));
      return true;
    });
  }

  async #decide(id: string, approver: ApproverIdentity, action: 'approve' | 'deny', text: string | undefined, options: DecisionOptions): Promise<RequestView> {
    const verdict = await this.#ledger.decide(id, (row) => this.#underLock(row, id, approver, action, text, options));
    const { audit, views } = this.#core;
    if (verdict.kind === 'late') return refuseLate(this.#core, verdict.request, approver, action);
    if (verdict.kind === 'refused') return refuseApprover(this.#core, verdict.request, approver, action, verdict);
    const { request, approvals } = verdict;
    if (request.status === 'denied') {
      await audit.safe({ type: 'request.denied', requestId: id, trust: request.context.trust, reason: request.statusReason });
    }
    // The owner is woken by the database; when it is this daemon, it need not wait for the wake-up.
    if (this.#pending.get(id)) {
      await this.sync(id).catch((err: unknown) => {
        this.#core.log.warn({ requestId: id, err: errorMessage(err) }, 'could not apply the decision at once; the reconcile will');
      });
    }
    const view = views.view(request, approvals.map(withoutRequestId), request.require?.from ?? []);
    if (!this.#pending.get(id)) views.showWatchers(view);
    return view;
  }

  /** The checks and the records, under the row lock: what the transaction writes, and how it came out. */
  async #underLock(
    row: LedgerRow,
    id: string,
    approver: ApproverIdentity,
    action: 'approve' | 'deny',
    text: string | undefined,
    options: DecisionOptions,
  ): Promise<LedgerWrite<Verdict>> {
    const { audit, clock, config } = this.#core;
    const { request, approvals } = row;
    if (!request) throw new NotFoundError(`no request ${JSON.stringify(id)}`, { code: 'REQUEST_NOT_FOUND' });
    // The wall-clock deadline stands in for the owner's monotonic one, which may not have fired yet.
    const now = clock.now();
    if (request.status !== 'pending' || (request.expiresAt > 0 && now >= request.expiresAt)) return { result: { kind: 'late', request } };
    const state = quorumState(request, approvals);
    const refusal = approverRefusal(state, approver, action) ?? (action === 'approve' ? stepUpRefusal(config.resources[request.resource], approver, now) : undefined);
    if (refusal) return { result: { kind: 'refused', request, ...refusal } };
    const decision: ApprovalView = {
      ...auditedApprover(approver),
      channel: channelOf(approver, options),
      decision: action,
      ...(text ? { comment: text } : {}),
      at: now,
    };
    const trust = request.context.trust;
    if (action === 'deny') {
      await audit.safe({ type: 'approval.denied', requestId: id, trust, approver: auditedApprover(approver), channel: decision.channel, reason: text });
      const statusReason = `denied by ${decider(decision, false)}: ${text ?? ''}`;
      const stored: StoredApproval = { ...decision, requestId: id, requestDigest: requestDigest(request) };
      return { approval: stored, status: { status: 'denied', statusReason }, result: { kind: 'recorded', request: { ...request, status: 'denied', statusReason }, approvals: [...approvals, stored] } };
    }
    // One person counts once, whichever daemon and channel they came through.
    if (alreadyApproved(state, approver, identityKeys(approver))) return { result: { kind: 'recorded', request, approvals } };
    // Audit first: an approval that is not on record must not count (the transaction rolls back).
    await audit.orFail({ type: 'approval.recorded', requestId: id, trust, approver: auditedApprover(approver), channel: decision.channel, ...(text ? { comment: text } : {}) });
    state.approvals.set(approver.subject, decision);
    state.groups.set(approver.subject, approver.groups);
    const stored: StoredApproval = { ...decision, requestId: id, groups: approver.groups, requestDigest: requestDigest(request) };
    const all = [...approvals, stored];
    if (!quorumMet(state)) return { approval: stored, result: { kind: 'recorded', request, approvals: all } };
    const statusReason = `approved by ${approverSummary(approvalList(state), false)}`;
    await audit.orFail({ type: 'request.approved', requestId: id, trust, reason: statusReason });
    return { approval: stored, status: { status: 'approved', statusReason }, result: { kind: 'recorded', request: { ...request, status: 'approved', statusReason }, approvals: all } };
  }

  /** `approval_scope: run` on the owner, where the run's next requests arrive. */
  #rememberScope(request: StoredRequest): void {
    const scope = request.require?.approvalScope;
    if (!scope || request.status !== 'approved') return;
    this.#scopes.remember({ resource: request.resource, rule: request.rule, context: request.context }, request.id, scope.ttlMs);
  }
}
