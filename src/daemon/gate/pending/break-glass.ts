import { ConflictError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnavailableError } from '../../../common/errors.js';
import type { ApproverIdentity } from '../../../model/context.js';
import type { ErrorCode } from '../../../model/error-codes.js';
import type { BreakGlassReview, BreakGlassView, RequestView } from '../../../model/request.js';
import type { BreakGlassSpec } from '../../config/types.js';
import { approverAllowed } from '../../policy/index.js';
import type { StoredRequest } from '../../state/store.js';
import type { GateCore } from '../gate-core.js';
import { auditedApprover, plainText, type Decisions } from './decisions.js';
import { pendingView, type PendingEntry } from './pending-entry.js';
import type { PendingRequests } from './pending-requests.js';
import { identityKeys, isRequester } from './quorum.js';

/** A break-glass reason must say why (an incident id and a few words), not just "urgent". */
export const MIN_BREAK_GLASS_REASON = 10;

/**
 * Break-glass: when approvers cannot be reached, a member of the rule's `break_glass.groups` grants
 * a pending request without quorum, with a mandatory reason and a TTL cut to `max_ttl`. It is loud
 * (every notifier announces it, the audit says so, a metric counts it) and accountable: the
 * request stays on `jitgate list --needs-review` until someone other than the breaker (and the
 * requester) reviews it. A rule without `break_glass` refuses it.
 */
export class BreakGlass {
  readonly #core: GateCore;
  readonly #pending: PendingRequests;
  readonly #decisions: Decisions;

  constructor(core: GateCore, pending: PendingRequests, decisions: Decisions) {
    this.#core = core;
    this.#pending = pending;
    this.#decisions = decisions;
  }

  async breakGlass(id: string, approver: ApproverIdentity, reason: string): Promise<RequestView> {
    const why = reason.trim();
    if (why.length < MIN_BREAK_GLASS_REASON) {
      throw new InvalidArgumentError('reason', `is required for break-glass: at least ${String(MIN_BREAK_GLASS_REASON)} characters saying why (e.g. "INC-1234: db down")`);
    }
    plainText('reason', why);
    const entry = await this.#decisions.pendingOrExplain(id, approver, 'break-glass');
    return this.#pending.withLock(entry, async () => {
      if (entry.request.status !== 'pending') return this.#decisions.lateDecision(entry.request, approver, 'break-glass');
      const spec = await this.#allowed(entry, approver);
      const { audit, store, clock, views, log } = this.#core;
      const record: BreakGlassView = { ...auditedApprover(approver), reason: why, at: clock.now() };
      const ttlMs = Math.min(entry.request.ttlMs, spec.maxTtlMs);
      // Intent first: a break-glass that is not on record must not grant.
      await audit.orFail({
        type: 'request.break_glass',
        requestId: id,
        trust: entry.request.context.trust,
        rule: entry.request.rule,
        approver: auditedApprover(approver),
        reason: why,
        ttlMs,
      });
      try {
        await store.recordBreakGlass(id, record);
      } catch (err) {
        throw err instanceof UnavailableError ? err : new UnavailableError('state store unavailable', { cause: err, code: 'STATE_UNAVAILABLE' });
      }
      entry.breakGlass = record;
      entry.request = { ...entry.request, ttlMs };
      log.warn({ requestId: id, subject: approver.subject, name: approver.name, rule: entry.request.rule }, 'break-glass: granted without quorum');
      await this.#pending.finish(entry, { status: 'approved', reason: `break-glass by ${approver.name}: ${why}` });
      const view = pendingView(views, entry);
      if (view.status === 'approved') views.emit('break_glass', view);
      return view;
    });
  }

  /** The rule's break-glass settings, when this approver may use them here; else audited and refused. */
  async #allowed(entry: PendingEntry, approver: ApproverIdentity): Promise<BreakGlassSpec> {
    const spec = entry.require.breakGlass;
    let refusal: { reason: string; code: ErrorCode } | undefined;
    if (spec === undefined) {
      refusal = { reason: `rule ${JSON.stringify(entry.request.rule)} does not allow break-glass`, code: 'BREAK_GLASS_NOT_ALLOWED' };
    } else if (!approverAllowed(spec.groups.map((g) => `group:${g}`), approver)) {
      refusal = { reason: `${approver.name} is not in a break-glass group of this rule (${spec.groups.join(', ')})`, code: 'BREAK_GLASS_NOT_ALLOWED' };
    } else if (!spec.allowSelf && isRequester(entry.request.context, approver)) {
      refusal = { reason: 'the requester cannot break the glass on their own request (break_glass.allow_self is off)', code: 'SELF_APPROVAL' };
    }
    if (spec !== undefined && refusal === undefined) return spec;
    const { reason, code } = refusal ?? { reason: 'break-glass refused', code: 'BREAK_GLASS_NOT_ALLOWED' };
    await this.#core.audit.safe({
      type: 'approval.rejected',
      requestId: entry.request.id,
      trust: entry.request.context.trust,
      action: 'break-glass',
      approver: auditedApprover(approver),
      reason,
    });
    throw new PermissionDeniedError(reason, { code });
  }

  /** Records the after-the-fact review of a break-glass grant, once, by someone other than the breaker and the requester. */
  async review(id: string, reviewer: ApproverIdentity, verdict: 'ok' | 'concern', note?: string): Promise<BreakGlassView> {
    const text = note?.trim() ?? '';
    if (verdict === 'concern' && text === '') throw new InvalidArgumentError('note', 'is required with a concern: say what is wrong');
    if (text !== '') plainText('note', text);
    const { store, audit, clock, views } = this.#core;
    const request = await store.getRequest(id);
    if (request === undefined) throw new NotFoundError(`no request ${JSON.stringify(id)}`, { code: 'REQUEST_NOT_FOUND' });
    const record = await store.getBreakGlass(id);
    if (record === undefined) throw new ConflictError(`request ${id} was not granted by break-glass; there is nothing to review`, { code: 'NOT_BREAK_GLASS' });
    if (record.review !== undefined) throw new ConflictError(`request ${id} was already reviewed by ${record.review.name}`, { code: 'ALREADY_REVIEWED' });
    await this.#refuseReviewer(request, record, reviewer);
    const review: BreakGlassReview = { ...auditedApprover(reviewer), verdict, ...(text !== '' && { note: text }), at: clock.now() };
    await audit.orFail({ type: 'request.reviewed', requestId: id, trust: request.context.trust, reviewer: auditedApprover(reviewer), verdict, ...(text !== '' && { note: text }) });
    const reviewed: BreakGlassView = { ...record, review };
    if (!(await store.reviewBreakGlass(id, reviewed))) throw new ConflictError(`request ${id} was already reviewed`, { code: 'ALREADY_REVIEWED' });
    views.emit('reviewed', { ...views.view(request, [], request.require?.from ?? []), breakGlass: reviewed });
    return reviewed;
  }

  async #refuseReviewer(request: StoredRequest, record: BreakGlassView, reviewer: ApproverIdentity): Promise<void> {
    const keys = identityKeys(reviewer);
    const breaker = [record.subject, record.name].map((k) => k.toLowerCase());
    let refusal: { reason: string; code: ErrorCode } | undefined;
    if (breaker.some((k) => keys.has(k)) || isRequester(request.context, reviewer)) {
      refusal = { reason: 'neither whoever broke the glass nor the requester can review it', code: 'SELF_REVIEW' };
    } else {
      const allowed = [...(request.require?.from ?? []), ...(request.require?.breakGlass?.groups ?? []).map((g) => `group:${g}`)];
      if (!approverAllowed(allowed, reviewer)) refusal = { reason: `${reviewer.name} may not review this request (allowed: ${allowed.join(', ')})`, code: 'NOT_AN_APPROVER' };
    }
    if (refusal === undefined) return;
    await this.#core.audit.safe({ type: 'review.rejected', requestId: request.id, trust: request.context.trust, reviewer: auditedApprover(reviewer), reason: refusal.reason });
    throw new PermissionDeniedError(refusal.reason, { code: refusal.code });
  }
}
