import { timingSafeEqual } from 'node:crypto';
import { AsyncQueue } from '../../common/async-queue.js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { ApproverIdentity, RequestContext } from '../../model/context.js';
import { formatDuration } from '../../common/duration.js';
import {
  ConflictError,
  errorMessage,
  InvalidArgumentError,
  JitgateError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
} from '../../common/errors.js';
import { newId, newSecretToken } from '../../common/ids.js';
import { ownValue } from '../../common/own-keys.js';
import { hasControlChars } from '../../common/text.js';
import type { Logger } from '../../common/logger.js';
import type { AuditEvent, AuditLog } from '../audit/types.js';
import type { Config, RequireSpec, ResourceConfig } from '../config/types.js';
import { approverAllowed, type PolicyDecision } from '../policy/index.js';
import { DeadlineQueue, type Deadlined } from './deadline-queue.js';
import type { Broker } from '../vault/broker.js';
import type { StateStore, StoredApproval, StoredGrant, StoredRequest } from '../state/store.js';
import type { AccessInput, AccessUpdate, ApprovalView, GrantHandle, RequestStatus, RequestView } from '../../model/request.js';
import type { ContextResolver, Gate } from './types.js';

export interface PolicyDecider {
  decide(resource: string, context: RequestContext): PolicyDecision;
}

/** Observes request changes (notifiers, metrics). Must not throw or block. */
export type GateListener = (event: { readonly type: GateEventType; readonly request: RequestView }) => void;
export type GateEventType = 'created' | 'approval' | 'escalated' | 'decided';

/** How one revocation ended (metrics): `failed` leaves the grant to the sweeper and the TTL. */
export type RevocationResult = 'revoked' | 'failed' | 'skipped';

export interface AccessGateOptions {
  readonly config: Pick<Config, 'resources' | 'limits'>;
  readonly contexts: ContextResolver;
  readonly policy: PolicyDecider;
  readonly broker: Broker;
  readonly store: StateStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Outcome delivered to a waiting RequestAccess stream. */
type Outcome =
  | { readonly kind: 'approved' }
  | { readonly kind: 'denied' | 'expired'; readonly reason: string }
  | { readonly kind: 'progress' };

/**
 * One per pending request, and there may be tens of thousands: fields that most requests never use
 * (approvals, escalation timers) are created on first use, and expiry is a slot in one shared
 * DeadlineQueue rather than a timer of its own.
 */
interface PendingEntry extends Deadlined {
  request: StoredRequest;
  readonly require: RequireSpec;
  /** The rule's own list until an escalation replaces it (copy on write: most never escalate). */
  approvers: readonly string[];
  approvals?: Map<string, ApprovalView>;
  /** Groups of each approver at the time they approved, for `every_group` quorums. */
  groups?: Map<string, readonly string[]>;
  /** Every name each approver is known by: the same person through another channel counts once. */
  people?: Map<string, ReadonlySet<string>>;
  /** Escalation timers, when the rule escalates. */
  escalations?: TimerHandle[];
  /** Monotonic deadline. */
  readonly deadline: number;
  readonly outcomes: AsyncQueue<Outcome>;
  /** Serialises decisions on this request: a racing approve and deny see one another's result. */
  lock: Promise<unknown>;
}

interface LiveGrant {
  readonly stored: StoredGrant;
  readonly releaseToken: string;
  readonly request: StoredRequest;
  readonly ended: AsyncQueue<string>;
  timer?: TimerHandle;
  revoking?: Promise<void>;
}

const REVOKE_SWEEP_MS = 30_000;

/** Shared, so that each pending request's queue does not carry a closure of its own. */
function outcomeOverflow(): Error {
  return new Error('outcome queue overflow');
}

function approvalList(entry: PendingEntry): ApprovalView[] {
  return entry.approvals ? [...entry.approvals.values()] : [];
}

/** Lower-cased subject, name and aliases: the identifiers one person may show up under. */
function identityKeys(who: ApproverIdentity): ReadonlySet<string> {
  return new Set([who.subject, who.name, ...who.aliases].filter((k) => k !== '').map((k) => k.toLowerCase()));
}

/** Free text from approvers reaches terminals, mail and Slack: no control characters, bounded length. */
function plainText(field: string, value: string): void {
  if (hasControlChars(value)) throw new InvalidArgumentError(field, 'must not contain control characters');
  if (value.length > 1024) throw new InvalidArgumentError(field, 'longer than 1024 characters');
}

function withoutRequestId(approval: StoredApproval): ApprovalView {
  const { requestId, ...view } = approval;
  return view;
}

/**
 * The request lifecycle: identity → policy → approvals → mint → release. Every transition is
 * written to state and audit before its side effect, and every error on the way denies.
 */
export class AccessGate implements Gate {
  readonly #o: AccessGateOptions;
  readonly #log: Logger;
  readonly #pending = new Map<string, PendingEntry>();
  readonly #grants = new Map<string, LiveGrant>();
  /** Mints in flight: each settles once its grant is in #grants (or the mint failed), so shutdown can wait for it. */
  readonly #minting = new Set<Promise<void>>();
  readonly #watchers = new Set<AsyncQueue<RequestView>>();
  readonly #listeners: GateListener[] = [];
  readonly #revocationListeners: ((result: RevocationResult) => void)[] = [];
  readonly #expiries: DeadlineQueue<PendingEntry>;
  #accepting = true;
  #sweepTimer: TimerHandle | undefined;

  constructor(options: AccessGateOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'gate' });
    // Deadlines run on monotonic time: stepping the wall clock back cannot extend them.
    this.#expiries = new DeadlineQueue<PendingEntry>(options.clock, (entry) => {
      void this.#withLock(entry, () => this.#finishPending(entry, 'expired', 'no decision before the deadline'));
    });
  }

  /** Registers an observer of request changes (notifiers). */
  onChange(listener: GateListener): void {
    this.#listeners.push(listener);
  }

  /** Registers an observer of revocation outcomes (metrics). Must not throw or block. */
  onRevocation(listener: (result: RevocationResult) => void): void {
    this.#revocationListeners.push(listener);
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  get liveGrantCount(): number {
    return this.#grants.size;
  }

  // ---------------------------------------------------------------- start-up and shutdown

  /**
   * Start-up recovery. The previous process may have died with grants live and requests waiting:
   * nobody can vouch that those steps still run, so every grant still live in state is revoked
   * and every unfinished request is ended.
   */
  async recover(): Promise<void> {
    const { store, clock } = this.#o;
    const orphans = await store.listGrants(['minting', 'live', 'revoking', 'revoke_failed']);
    for (const grant of orphans) {
      await this.#revokeStored(grant, 'orphaned at start-up');
    }
    const unfinished = await store.listRequests({ statuses: ['pending', 'approved', 'granted'] });
    for (const request of unfinished) {
      const status: RequestStatus = request.status === 'granted' ? 'released' : 'denied';
      const reason = 'daemon restarted';
      if (await store.transitionRequest(request.id, [request.status], { status, statusReason: reason, updatedAt: clock.now() })) {
        await this.#auditSafe({ type: `request.${status}`, requestId: request.id, trust: request.context.trust, reason });
      }
    }
    this.#scheduleSweep();
  }

  /** Retries revocations that failed earlier; exposure is capped by the TTL meanwhile. */
  #scheduleSweep(): void {
    this.#sweepTimer = this.#o.clock.setTimeout(() => {
      void this.#sweep().finally(() => {
        if (this.#accepting) this.#scheduleSweep();
      });
    }, REVOKE_SWEEP_MS);
    this.#sweepTimer.unref();
  }

  async #sweep(): Promise<void> {
    try {
      const failed = await this.#o.store.listGrants(['revoke_failed']);
      for (const grant of failed) {
        if (!this.#grants.has(grant.id)) await this.#revokeStored(grant, 'retrying failed revocation');
      }
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, 'revocation sweep failed');
    }
  }

  /**
   * Shutdown: refuse new requests, end pending ones as denied (`shutdown`), revoke every live
   * grant. Resolves when all revocations have been attempted.
   */
  async shutdown(): Promise<void> {
    this.#accepting = false;
    if (this.#sweepTimer) this.#o.clock.clearTimeout(this.#sweepTimer);
    const pending = [...this.#pending.values()].map((entry) =>
      this.#withLock(entry, () => this.#finishPending(entry, 'denied', 'shutdown')),
    );
    await Promise.allSettled(pending);
    this.#expiries.clear();
    // A mint already at Vault finishes first: its grant must be revoked here too, never handed out.
    await Promise.allSettled([...this.#minting]);
    await Promise.allSettled([...this.#grants.values()].map((grant) => this.#revokeLive(grant, 'shutdown')));
    for (const watcher of this.#watchers) watcher.end();
  }

  // ---------------------------------------------------------------- RequestAccess

  async *requestAccess(input: AccessInput, signal: AbortSignal): AsyncGenerator<AccessUpdate> {
    const { audit, store, clock, config } = this.#o;
    if (!this.#accepting) throw new UnavailableError('jitgated is shutting down');
    if (!audit.healthy) throw new UnavailableError('audit log unavailable: no grants until it is repaired');

    const resource = ownValue(config.resources, input.resource);
    if (!resource) {
      throw new InvalidArgumentError('resource', `unknown resource ${JSON.stringify(input.resource)}`);
    }
    const ttl = this.#effectiveTtl(resource, input.ttlMs);

    let context: RequestContext;
    try {
      context = await this.#o.contexts.resolve(input.idToken, input.claimed);
    } catch (err) {
      await this.#auditRejection(input, err);
      throw err;
    }

    if (this.#pending.size >= config.limits.maxPendingRequests) {
      throw new ResourceExhaustedError(`too many pending requests (limit ${config.limits.maxPendingRequests})`);
    }

    const decision = ttl.deny
      ? ({ kind: 'deny', rule: null, reason: ttl.deny } as const)
      : this.#o.policy.decide(resource.name, context);
    const now = clock.now();
    const request: StoredRequest = {
      id: newId('req'),
      resource: resource.name,
      reason: input.reason,
      context,
      claimed: input.claimed,
      ttlMs: ttl.ms,
      status: decision.kind === 'require' ? 'pending' : decision.kind === 'deny' ? 'denied' : 'approved',
      ...(decision.kind === 'deny' ? { statusReason: decision.reason } : {}),
      rule: decision.rule,
      ...(decision.kind === 'require' ? { require: decision.require } : {}),
      createdAt: now,
      expiresAt: decision.kind === 'require' ? now + decision.require.expiresAfterMs : 0,
      updatedAt: now,
    };
    // Intent first: the request is in audit and state before anything acts on it. The append is
    // issued, not awaited, so that it shares one fsync with the records that follow it; every path
    // below awaits it before any effect (a Vault call, an approver being asked, a reply).
    const created = this.#auditIssue({
      type: 'request.created',
      requestId: request.id,
      trust: context.trust,
      resource: resource.name,
      reason: input.reason,
      ttlMs: ttl.ms,
      ...(ttl.clampedFrom !== undefined ? { requestedTtlMs: ttl.clampedFrom } : {}),
      context,
      claimed: input.claimed,
      decision: decision.kind,
      rule: decision.rule,
    });
    try {
      await store.insertRequest(request);
    } catch (err) {
      throw new UnavailableError('state store unavailable', { cause: err });
    }
    // One info line per grant is the budget (the 'granted' line); auto-approvals stay at debug here.
    const level = decision.kind === 'auto-approve' ? 'debug' : 'info';
    if (this.#log.isLevelEnabled(level)) {
      this.#log[level]({ requestId: request.id, resource: resource.name, decision: decision.kind, rule: decision.rule, trust: context.trust }, 'request received');
    }

    if (decision.kind === 'deny') {
      const denied = this.#auditIssue({ type: 'request.denied', requestId: request.id, trust: context.trust, reason: decision.reason });
      await this.#awaitAudit([created]);
      await this.#settled([denied]);
      const view = this.#view(request, [], []);
      this.#emit('decided', view);
      yield { kind: 'denied', request: view, reason: decision.reason, code: decision.rule === null ? 'POLICY_NO_MATCH' : 'POLICY_DENY' };
      return;
    }

    if (decision.kind === 'require') {
      await this.#awaitAudit([created]);
      const entry = this.#registerPending(request, decision.require);
      const onAbort = (): void => {
        void this.#withLock(entry, () => this.#finishPending(entry, 'denied', 'cancelled by the requester'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      try {
        const createdView = this.#pendingView(entry);
        this.#emit('created', createdView);
        yield { kind: 'pending', request: createdView };
        for await (const outcome of entry.outcomes) {
          if (outcome.kind === 'progress') {
            yield { kind: 'pending', request: this.#pendingView(entry) };
            continue;
          }
          if (outcome.kind === 'approved') break;
          yield { kind: outcome.kind, request: this.#pendingView(entry), reason: outcome.reason };
          return;
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      if (entry.request.status !== 'approved') return;
      yield { kind: 'approved', request: this.#pendingView(entry) };
      yield* this.#grant(entry.request, approvalList(entry), entry.approvers, signal, []);
      return;
    }

    const approved = this.#auditIssue({ type: 'request.approved', requestId: request.id, trust: context.trust, by: 'policy', rule: decision.rule });
    yield* this.#grant(request, [], [], signal, [created, approved]);
  }

  #effectiveTtl(resource: ResourceConfig, requested: number | undefined): { ms: number; clampedFrom?: number; deny?: string } {
    if (requested === undefined) return { ms: resource.ttlMs };
    if (requested <= 0) throw new InvalidArgumentError('ttl', 'must be positive');
    if (requested <= resource.maxTtlMs) return { ms: requested };
    if (resource.excessTtl === 'deny') {
      return {
        ms: resource.maxTtlMs,
        deny: `requested ttl ${formatDuration(requested)} exceeds max_ttl ${formatDuration(resource.maxTtlMs)}`,
      };
    }
    return { ms: resource.maxTtlMs, clampedFrom: requested };
  }

  async #auditRejection(input: AccessInput, err: unknown): Promise<void> {
    const mismatches = err instanceof JitgateError && 'mismatches' in err ? (err as { mismatches: unknown }).mismatches : undefined;
    await this.#auditSafe({
      type: 'request.rejected',
      resource: input.resource,
      reason: errorMessage(err),
      code: err instanceof JitgateError ? err.code : 'ERR_INTERNAL',
      claimed: input.claimed,
      ...(mismatches !== undefined ? { mismatches } : {}),
    });
    this.#log.warn({ resource: input.resource, reason: errorMessage(err) }, 'request rejected');
  }

  // ---------------------------------------------------------------- approvals

  #registerPending(request: StoredRequest, require: RequireSpec): PendingEntry {
    const { clock } = this.#o;
    const entry: PendingEntry = {
      request,
      require,
      approvers: require.from,
      deadline: clock.monotonic() + require.expiresAfterMs,
      slot: -1,
      outcomes: new AsyncQueue<Outcome>(1000, outcomeOverflow),
      lock: Promise.resolve(),
    };
    this.#pending.set(request.id, entry);
    this.#expiries.add(entry);
    for (const step of require.escalate) {
      const timer = clock.setTimeout(() => {
        void this.#withLock(entry, () => this.#escalate(entry, step.to));
      }, step.afterMs);
      timer.unref();
      (entry.escalations ??= []).push(timer);
    }
    return entry;
  }

  async #escalate(entry: PendingEntry, to: readonly string[]): Promise<void> {
    if (entry.request.status !== 'pending') return;
    const added = to.filter((p) => !entry.approvers.includes(p));
    if (added.length === 0) return;
    entry.approvers = [...entry.approvers, ...added];
    await this.#auditSafe({ type: 'request.escalated', requestId: entry.request.id, trust: entry.request.context.trust, to: added });
    entry.outcomes.push({ kind: 'progress' });
    this.#emit('escalated', this.#pendingView(entry));
  }

  #withLock<T>(entry: PendingEntry, fn: () => Promise<T>): Promise<T> {
    const run = entry.lock.then(fn, fn);
    entry.lock = run.catch(() => undefined);
    return run;
  }

  async approve(id: string, approver: ApproverIdentity, comment?: string): Promise<RequestView> {
    if (comment !== undefined) plainText('comment', comment);
    const entry = await this.#pendingOrExplain(id, approver, 'approve');
    return this.#withLock(entry, async () => {
      if (entry.request.status !== 'pending') {
        return this.#lateDecision(entry.request, approver, 'approve');
      }
      await this.#checkApprover(entry, approver, 'approve');
      const approval: ApprovalView = {
        subject: approver.subject,
        name: approver.name,
        trust: approver.trust,
        decision: 'approve',
        ...(comment ? { comment } : {}),
        at: this.#o.clock.now(),
      };
      // One person counts once, whichever channel (CLI, IdP, Slack, webhook) and identifier they used.
      const keys = identityKeys(approver);
      const known = entry.approvals?.has(approver.subject) || [...(entry.people?.values() ?? [])].some((k) => [...keys].some((key) => k.has(key)));
      if (known) return this.#pendingView(entry);
      let added: boolean;
      try {
        await this.#auditOrFail({
          type: 'approval.recorded',
          requestId: id,
          trust: entry.request.context.trust,
          approver: { subject: approver.subject, name: approver.name, trust: approver.trust },
          ...(comment ? { comment } : {}),
        });
        added = await this.#o.store.addApproval({ ...approval, requestId: id });
      } catch (err) {
        throw err instanceof UnavailableError ? err : new UnavailableError('state store unavailable', { cause: err });
      }
      if (added) {
        (entry.approvals ??= new Map()).set(approver.subject, approval);
        (entry.groups ??= new Map()).set(approver.subject, approver.groups);
        (entry.people ??= new Map()).set(approver.subject, keys);
      }
      if (this.#quorumMet(entry)) {
        await this.#finishPending(entry, 'approved', `approved by ${approvalList(entry).map((a) => a.name).join(', ')}`);
      } else {
        entry.outcomes.push({ kind: 'progress' });
        this.#emit('approval', this.#pendingView(entry));
      }
      return this.#pendingView(entry);
    });
  }

  async deny(id: string, approver: ApproverIdentity, reason: string): Promise<RequestView> {
    plainText('reason', reason);
    const entry = await this.#pendingOrExplain(id, approver, 'deny');
    return this.#withLock(entry, async () => {
      if (entry.request.status !== 'pending') {
        return this.#lateDecision(entry.request, approver, 'deny');
      }
      await this.#checkApprover(entry, approver, 'deny');
      const denial: ApprovalView = {
        subject: approver.subject,
        name: approver.name,
        trust: approver.trust,
        decision: 'deny',
        comment: reason,
        at: this.#o.clock.now(),
      };
      await this.#auditSafe({
        type: 'approval.denied',
        requestId: id,
        trust: entry.request.context.trust,
        approver: { subject: approver.subject, name: approver.name, trust: approver.trust },
        reason,
      });
      try {
        await this.#o.store.addApproval({ ...denial, requestId: id });
      } catch (err) {
        this.#log.error({ requestId: id, err: errorMessage(err) }, 'could not store denial');
      }
      (entry.approvals ??= new Map()).set(`deny:${approver.subject}`, denial);
      await this.#finishPending(entry, 'denied', `denied by ${approver.name}: ${reason}`);
      return this.#pendingView(entry);
    });
  }

  /** Finds the in-memory pending entry, or explains (and audits) why the decision is refused. */
  async #pendingOrExplain(id: string, approver: ApproverIdentity, action: 'approve' | 'deny'): Promise<PendingEntry> {
    const entry = this.#pending.get(id);
    if (entry) return entry;
    const stored = await this.#o.store.getRequest(id);
    if (!stored) throw new NotFoundError(`no request ${JSON.stringify(id)}`, { code: 'REQUEST_NOT_FOUND' });
    await this.#lateDecision(stored, approver, action);
    throw new ConflictError(`request ${id} is already ${stored.status}`);
  }

  async #lateDecision(request: StoredRequest, approver: ApproverIdentity, action: 'approve' | 'deny'): Promise<never> {
    await this.#auditSafe({
      type: 'approval.late',
      requestId: request.id,
      trust: request.context.trust,
      action,
      status: request.status,
      approver: { subject: approver.subject, name: approver.name, trust: approver.trust },
    });
    throw new ConflictError(`request ${request.id} is already ${request.status}; nothing changed`);
  }

  async #checkApprover(entry: PendingEntry, approver: ApproverIdentity, action: 'approve' | 'deny'): Promise<void> {
    const { context } = entry.request;
    const names = [approver.subject, approver.name, ...approver.aliases].map((n) => n.toLowerCase());
    const requesters = [context.actor, context.commitAuthor].filter((n): n is string => Boolean(n)).map((n) => n.toLowerCase());
    let refusal: string | undefined;
    if (action === 'approve' && requesters.some((r) => names.includes(r))) {
      refusal = 'the requester cannot approve their own request';
    } else if (!approverAllowed(entry.approvers, approver)) {
      refusal = `${approver.name} is not allowed to ${action} this request (allowed: ${entry.approvers.join(', ')})`;
    }
    if (refusal) {
      await this.#auditSafe({
        type: 'approval.rejected',
        requestId: entry.request.id,
        trust: context.trust,
        action,
        approver: { subject: approver.subject, name: approver.name, trust: approver.trust },
        reason: refusal,
      });
      throw new PermissionDeniedError(refusal);
    }
  }

  #quorumMet(entry: PendingEntry): boolean {
    const approvals = approvalList(entry).filter((a) => a.decision === 'approve');
    if (approvals.length < entry.require.approvals) return false;
    if (!entry.require.everyGroup) return true;
    return entry.require.from.every((principal) =>
      approvals.some((a) =>
        approverAllowed([principal], { subject: a.subject, name: a.name, groups: entry.groups?.get(a.subject) ?? [], aliases: [], trust: a.trust }),
      ),
    );
  }

  /** Moves a pending request to a final or approved state exactly once. Caller holds the lock. */
  async #finishPending(entry: PendingEntry, status: 'approved' | 'denied' | 'expired', reason: string): Promise<void> {
    if (entry.request.status !== 'pending') return;
    const { store, clock } = this.#o;
    this.#expiries.delete(entry);
    for (const timer of entry.escalations ?? []) clock.clearTimeout(timer);
    this.#pending.delete(entry.request.id);
    let moved = false;
    try {
      moved = await store.transitionRequest(entry.request.id, ['pending'], { status, statusReason: reason, updatedAt: clock.now() });
    } catch (err) {
      this.#log.error({ requestId: entry.request.id, err: errorMessage(err) }, 'state store failed; denying');
    }
    // A failed state write must not become a grant: only a recorded approval proceeds.
    const final = moved ? status : status === 'approved' ? 'denied' : status;
    const finalReason = moved ? reason : status === 'approved' ? 'state store unavailable' : reason;
    entry.request = { ...entry.request, status: final, statusReason: finalReason, updatedAt: clock.now() };
    const audited = await this.#auditSafe({ type: `request.${final}`, requestId: entry.request.id, trust: entry.request.context.trust, reason: finalReason });
    if (final === 'approved' && !audited) {
      entry.request = { ...entry.request, status: 'denied', statusReason: 'audit log unavailable' };
      await store.transitionRequest(entry.request.id, ['approved'], { status: 'denied', statusReason: 'audit log unavailable', updatedAt: clock.now() }).catch(() => false);
    }
    const view = this.#pendingView(entry);
    this.#emit('decided', view);
    if (entry.request.status === 'approved') entry.outcomes.push({ kind: 'approved' });
    else entry.outcomes.push({ kind: entry.request.status === 'expired' ? 'expired' : 'denied', reason: entry.request.statusReason ?? final });
    entry.outcomes.end();
  }

  // ---------------------------------------------------------------- grants

  /**
   * Mints and hands out a grant. `prior` are audit appends already issued for this request
   * (created, approved): they are awaited together with the mint intent, so one fsync makes all of
   * them durable before Vault is called.
   */
  async *#grant(
    request: StoredRequest,
    approvals: readonly ApprovalView[],
    approvers: readonly string[],
    signal: AbortSignal,
    prior: readonly Promise<void>[],
  ): AsyncGenerator<AccessUpdate> {
    const { store, audit, clock, broker } = this.#o;
    const resource = ownValue(this.#o.config.resources, request.resource);
    const trust = request.context.trust;
    const deny = async (reason: string, status: RequestStatus = 'approved'): Promise<RequestView> => {
      await store.transitionRequest(request.id, [status], { status: 'denied', statusReason: reason, updatedAt: clock.now() }).catch(() => false);
      const view = this.#view({ ...request, status: 'denied', statusReason: reason }, approvals, approvers);
      this.#emit('decided', view);
      return view;
    };
    if (!audit.healthy) {
      // The request's own records may not be durable: an error, exactly as when the intent append
      // itself fails below, not an ordinary denial the client could mistake for a policy answer.
      await deny('audit log unavailable');
      throw new UnavailableError('audit log unavailable: no grants until it is repaired');
    }
    if (!resource || !this.#accepting) {
      const reason = !this.#accepting ? 'shutdown' : 'audit log unavailable';
      const view = await deny(reason);
      await this.#auditSafe({ type: 'request.denied', requestId: request.id, trust, reason });
      yield { kind: 'denied', request: view, reason };
      return;
    }

    const now = clock.now();
    let grant: StoredGrant = {
      id: newId('grant'),
      requestId: request.id,
      resource: resource.name,
      accessor: null,
      leaseIds: [],
      status: 'minting',
      createdAt: now,
      expiresAt: now + request.ttlMs,
      updatedAt: now,
    };
    try {
      const intent = this.#auditIssue({ type: 'grant.mint.intent', requestId: request.id, grantId: grant.id, trust, resource: resource.name, ttlMs: request.ttlMs });
      // Intent durable before the side effect: Vault is not called until this batch is on disk.
      await this.#awaitAudit([...prior, intent]);
      await store.insertGrant(grant);
    } catch (err) {
      const reason = `cannot record the grant: ${errorMessage(err)}`;
      await deny(reason);
      await this.#auditSafe({ type: 'request.denied', requestId: request.id, trust, reason });
      throw err instanceof UnavailableError ? err : new UnavailableError(reason, { cause: err });
    }

    // Audit of the token's creation may complete alongside `grant.minted` (one fsync for both): the
    // accessor itself is in state before the broker goes on, which is what start-up recovery needs.
    let tokenCreated: Promise<void> | undefined;
    let minted;
    let mintSettled!: () => void;
    const minting = new Promise<void>((resolve) => {
      mintSettled = resolve;
    });
    this.#minting.add(minting);
    const settleMint = (): void => {
      this.#minting.delete(minting);
      mintSettled();
    };
    try {
      minted = await broker.mint(
        resource,
        request.ttlMs,
        { jitgate_grant: grant.id, jitgate_request: request.id, repository: request.context.repository, sha: request.context.sha },
        async (accessor) => {
          grant = { ...grant, accessor };
          if (!audit.healthy) throw new UnavailableError('audit log unavailable');
          tokenCreated = this.#auditIssue({ type: 'grant.token.created', requestId: request.id, grantId: grant.id, trust, accessorHmac: audit.hmac(accessor) });
          await store.updateGrant(grant.id, { accessor, updatedAt: clock.now() });
        },
      );
    } catch (err) {
      settleMint();
      // The broker has already revoked whatever it created; record that nothing is live.
      const reason = errorMessage(err);
      this.#log.warn({ requestId: request.id, grantId: grant.id, reason }, 'mint failed');
      await store.updateGrant(grant.id, { status: 'revoked', updatedAt: clock.now() }).catch(() => undefined);
      if (tokenCreated) await this.#settled([tokenCreated]);
      await this.#auditSafe({ type: 'grant.mint.failed', requestId: request.id, grantId: grant.id, trust, reason });
      await deny(reason);
      await this.#auditSafe({ type: 'request.denied', requestId: request.id, trust, reason });
      throw new UnavailableError(`denied: ${reason}`, { cause: err });
    }

    const releaseToken = newSecretToken();
    const expiresAt = clock.now() + minted.ttlMs;
    grant = { ...grant, accessor: minted.accessor, leaseIds: [...minted.leaseIds], status: 'live', expiresAt, updatedAt: clock.now() };
    const live: LiveGrant = { stored: grant, releaseToken, request, ended: new AsyncQueue<string>(4) };
    this.#grants.set(grant.id, live);
    settleMint();
    try {
      const mintedAudit = this.#auditIssue({
        type: 'grant.minted',
        requestId: request.id,
        grantId: grant.id,
        trust,
        accessorHmac: audit.hmac(minted.accessor),
        leaseHmacs: minted.leaseIds.map((l) => audit.hmac(l)),
        ttlMs: minted.ttlMs,
        expiresAt: new Date(expiresAt).toISOString(),
      });
      await store.updateGrant(grant.id, { accessor: minted.accessor, leaseIds: [...minted.leaseIds], status: 'live', expiresAt, updatedAt: clock.now() });
      if (!(await store.transitionRequest(request.id, ['approved'], { status: 'granted', updatedAt: clock.now() }))) {
        throw new ConflictError('request left the approved state before the grant');
      }
      // The grant is in state and audit before the credentials leave the daemon.
      await this.#awaitAudit(tokenCreated ? [tokenCreated, mintedAudit] : [mintedAudit]);
    } catch (err) {
      // The grant is not on record: the credentials must not leave the daemon.
      await this.#revokeLive(live, 'grant could not be recorded');
      const reason = `cannot record the grant: ${errorMessage(err)}`;
      await deny(reason, 'approved');
      throw err instanceof UnavailableError ? err : new UnavailableError(reason, { cause: err });
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- shutdown() may flip it while Vault mints
    if (!this.#accepting || live.revoking) {
      // Shutdown began while Vault was minting: the credentials never leave the daemon.
      await this.#revokeLive(live, 'shutdown');
      const reason = 'shutdown';
      yield { kind: 'denied', request: this.#view({ ...request, status: 'released', statusReason: reason }, approvals, approvers), reason };
      return;
    }
    this.#log.info({ requestId: request.id, resource: resource.name, grantId: grant.id, ttlMs: minted.ttlMs }, 'granted');

    // The TTL is Vault's backstop; the timer just ends the stream and the record at the same moment.
    live.timer = clock.setTimeout(() => void this.#revokeLive(live, 'ttl elapsed'), minted.ttlMs);
    live.timer.unref();
    const onAbort = (): void => void this.#revokeLive(live, 'requester disconnected');
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    const handle: GrantHandle = { id: grant.id, releaseToken, credentials: minted.credentials, ttlMs: minted.ttlMs, expiresAt };
    const grantedView = this.#view({ ...request, status: 'granted' }, approvals, approvers, grant.id);
    this.#emit('decided', grantedView);
    try {
      yield { kind: 'granted', request: grantedView, grant: handle };
      let why = 'released';
      for await (const reason of live.ended) why = reason;
      yield { kind: 'released', request: this.#view({ ...request, status: 'released', statusReason: why }, approvals, approvers, grant.id) };
    } finally {
      signal.removeEventListener('abort', onAbort);
      // The consumer stopped iterating (stream closed): the step is gone, so is its grant.
      if (this.#grants.has(grant.id)) await this.#revokeLive(live, 'stream closed');
    }
  }

  async release(grantId: string, releaseToken: string): Promise<void> {
    const live = this.#grants.get(grantId);
    if (!live) {
      const stored = await this.#o.store.getGrant(grantId);
      if (!stored) throw new NotFoundError(`no grant ${JSON.stringify(grantId)}`);
      return; // already ended: releasing twice is not an error
    }
    const a = Buffer.from(releaseToken);
    const b = Buffer.from(live.releaseToken);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new PermissionDeniedError('release token does not match this grant');
    }
    await this.#revokeLive(live, 'released');
  }

  /** Revokes a grant this process holds; idempotent, concurrent callers share one revocation. */
  #revokeLive(live: LiveGrant, why: string): Promise<void> {
    live.revoking ??= (async () => {
      if (live.timer) this.#o.clock.clearTimeout(live.timer);
      const status: RequestStatus = 'released';
      // `request.released` rides in the same fsync as the revocation's result record.
      await this.#revokeStored(live.stored, why, {
        type: 'request.released',
        requestId: live.request.id,
        trust: live.request.context.trust,
        reason: why,
      });
      this.#grants.delete(live.stored.id);
      await this.#o.store
        .transitionRequest(live.request.id, ['granted', 'approved'], { status, statusReason: why, updatedAt: this.#o.clock.now() })
        .catch((err: unknown) => {
          this.#log.error({ requestId: live.request.id, err: errorMessage(err) }, 'state update failed');
        });
      const view = this.#view({ ...live.request, status, statusReason: why }, [], [], live.stored.id);
      this.#emit('decided', view);
      live.ended.push(why);
      live.ended.end();
    })();
    return live.revoking;
  }

  /**
   * Intent, revoke, result. A failed revocation is kept for the sweeper; the TTL caps exposure.
   * `then` is appended right after the result record and made durable with it.
   */
  async #revokeStored(grant: StoredGrant, why: string, then?: AuditEvent): Promise<void> {
    const { store, audit, broker, clock } = this.#o;
    const base = { requestId: grant.requestId, grantId: grant.id, reason: why };
    const finish = async (result: AuditEvent): Promise<void> => {
      const outcome: RevocationResult = result.type === 'grant.revoked' ? 'revoked' : result.type === 'grant.revoke.failed' ? 'failed' : 'skipped';
      for (const listener of this.#revocationListeners) {
        try {
          listener(outcome);
        } catch (err) {
          this.#log.error({ err: errorMessage(err) }, 'revocation listener threw');
        }
      }
      const appended = [this.#auditIssue(result)];
      if (then) appended.push(this.#auditIssue(then));
      await this.#settled(appended);
    };
    if (!grant.accessor) {
      // Crashed between recording the intent and Vault answering: nothing to revoke by; the TTL ends it.
      await store.updateGrant(grant.id, { status: 'revoked', updatedAt: clock.now() }).catch(() => undefined);
      await finish({ type: 'grant.revoke.skipped', ...base, detail: 'no token was recorded; any token expires at its TTL' });
      return;
    }
    // Revocation is never blocked by a broken audit log: taking power away is always safe.
    const intent = this.#auditIssue({ type: 'grant.revoke.intent', ...base, accessorHmac: audit.hmac(grant.accessor) });
    await store.updateGrant(grant.id, { status: 'revoking', updatedAt: clock.now() }).catch(() => undefined);
    await this.#settled([intent]);
    try {
      await broker.revoke(grant.accessor, grant.leaseIds);
    } catch (err) {
      this.#log.error({ grantId: grant.id, err: errorMessage(err) }, 'revocation failed; will retry, TTL caps exposure');
      await store.updateGrant(grant.id, { status: 'revoke_failed', updatedAt: clock.now() }).catch(() => undefined);
      await finish({ type: 'grant.revoke.failed', ...base, error: errorMessage(err) });
      return;
    }
    await store.updateGrant(grant.id, { status: 'revoked', updatedAt: clock.now() }).catch(() => undefined);
    await finish({ type: 'grant.revoked', ...base });
  }

  // ---------------------------------------------------------------- queries

  async listRequests(filter: { readonly statuses?: readonly RequestStatus[] }): Promise<RequestView[]> {
    const stored = await this.#o.store.listRequests({ ...(filter.statuses ? { statuses: filter.statuses } : {}), limit: 500 });
    return Promise.all(stored.map((r) => this.#storedView(r)));
  }

  async getRequest(id: string): Promise<RequestView> {
    const stored = await this.#o.store.getRequest(id);
    if (!stored) throw new NotFoundError(`no request ${JSON.stringify(id)}`, { code: 'REQUEST_NOT_FOUND' });
    return this.#storedView(stored);
  }

  async *watchRequests(signal: AbortSignal): AsyncGenerator<RequestView> {
    const queue = new AsyncQueue<RequestView>(10_000, () => new ResourceExhaustedError('watcher too slow'));
    for (const entry of this.#pending.values()) queue.push(this.#pendingView(entry));
    this.#watchers.add(queue);
    const onAbort = (): void => {
      queue.end();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield* queue;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#watchers.delete(queue);
    }
  }

  async #storedView(stored: StoredRequest): Promise<RequestView> {
    const entry = this.#pending.get(stored.id);
    if (entry) return this.#pendingView(entry);
    const approvals = await this.#o.store.listApprovals(stored.id);
    const grant = [...this.#grants.values()].find((g) => g.request.id === stored.id);
    return this.#view(
      stored,
      approvals.map(withoutRequestId),
      stored.require?.from ?? [],
      grant?.stored.id,
    );
  }

  #pendingView(entry: PendingEntry): RequestView {
    return this.#view(entry.request, approvalList(entry), entry.approvers, undefined, entry.deadline);
  }

  #view(
    request: StoredRequest,
    approvals: readonly ApprovalView[],
    approvers: readonly string[],
    grantId?: string,
    monotonicDeadline?: number,
  ): RequestView {
    const { clock } = this.#o;
    // Time left comes from the monotonic deadline; the wall-clock figure is for display only.
    const expiresAt =
      request.status === 'pending'
        ? monotonicDeadline !== undefined
          ? clock.now() + Math.max(0, monotonicDeadline - clock.monotonic())
          : request.expiresAt
        : 0;
    return {
      id: request.id,
      resource: request.resource,
      reason: request.reason,
      context: request.context,
      ttlMs: request.ttlMs,
      status: request.status,
      ...(request.statusReason !== undefined ? { statusReason: request.statusReason } : {}),
      rule: request.rule,
      approvalsRequired: request.require?.approvals ?? 0,
      approvers,
      approvals,
      createdAt: request.createdAt,
      expiresAt,
      ...(grantId ? { grantId } : {}),
    };
  }

  #emit(type: GateEventType, request: RequestView): void {
    for (const watcher of this.#watchers) watcher.push(request);
    for (const listener of this.#listeners) {
      try {
        listener({ type, request });
      } catch (err) {
        this.#log.error({ err: errorMessage(err) }, 'gate listener threw');
      }
    }
  }

  // ---------------------------------------------------------------- audit helpers

  /**
   * Starts an append without waiting for it. The writer chains records in call order and commits
   * everything queued in one write+fsync, so appends issued back to back share one fsync. The
   * returned promise is already marked handled (a caller that bails out early leaves no unhandled
   * rejection); whoever depends on the record must await it via #awaitAudit or #settled.
   */
  #auditIssue(event: AuditEvent): Promise<void> {
    let appended: Promise<void>;
    try {
      appended = this.#o.audit.append(event);
    } catch (err) {
      appended = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    appended.catch(() => undefined);
    return appended;
  }

  /** Waits for issued appends; any failure is an UnavailableError (the operation must stop). */
  async #awaitAudit(appends: readonly Promise<void>[]): Promise<void> {
    try {
      await Promise.all(appends);
    } catch (err) {
      throw new UnavailableError('audit log unavailable', { cause: err });
    }
  }

  /** Waits for issued appends; a failure is logged (health already says NOT_SERVING) and returns false. */
  async #settled(appends: readonly Promise<void>[]): Promise<boolean> {
    try {
      await Promise.all(appends);
      return true;
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, 'audit append failed');
      return false;
    }
  }

  /** Appends or throws UnavailableError: used where a missing record must stop the operation. */
  async #auditOrFail(event: AuditEvent): Promise<void> {
    try {
      await this.#o.audit.append(event);
    } catch (err) {
      throw new UnavailableError('audit log unavailable', { cause: err });
    }
  }

  /** Appends; on failure logs and returns false (the log has turned unhealthy and health says so). */
  async #auditSafe(event: AuditEvent): Promise<boolean> {
    try {
      await this.#o.audit.append(event);
      return true;
    } catch (err) {
      this.#log.error({ event: event.type, err: errorMessage(err) }, 'audit append failed');
      return false;
    }
  }
}
