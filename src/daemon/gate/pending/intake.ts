import { grantStage } from '../../../common/grant-stages.js';
import { errorMessage, InvalidArgumentError, JitgateError, UnavailableError } from '../../../common/errors.js';
import { formatDuration } from '../../../common/duration.js';
import { newId } from '../../../common/ids.js';
import { ownValue } from '../../../common/own-keys.js';
import type { RequestContext } from '../../../model/context.js';
import type { ErrorCode } from '../../../model/error-codes.js';
import type { AccessInput, AccessUpdate } from '../../../model/request.js';
import type { RequireSpec, ResourceConfig } from '../../config/types.js';
import type { PolicyDecision } from '../../policy/index.js';
import type { StoredRequest } from '../../state/store.js';
import type { GateCore } from '../gate-core.js';
import type { GrantIssuer } from '../grants/mint.js';
import type { ContextResolver, PolicyDecider } from '../ports.js';
import { transition } from '../transitions.js';
import { approvalList, pendingView } from './pending-entry.js';
import { PendingLimits, type PendingSlot } from './pending-limits.js';
import type { PendingRequests } from './pending-requests.js';
import type { RunScopes } from '../run-scope.js';
import { Superseder } from './supersede.js';

/** The TTL a request gets: the resource default, the requested one, or clamped to (or denied above) max_ttl. */
interface EffectiveTtl {
  readonly ms: number;
  readonly clampedFrom?: number;
  readonly deny?: string;
}

function effectiveTtl(resource: ResourceConfig, requested: number | undefined): EffectiveTtl {
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

/** A policy decision, or the TTL check's denial standing in for one. */
type Decision = PolicyDecision & { readonly code?: ErrorCode };

/**
 * A new request: the resource and TTL, who is asking (verified), what policy says, the record
 * (audit and state, intent first), then one of three paths: denied at once, waiting for
 * approvers, or approved by policy and on to the grant.
 */
export class Intake {
  readonly #core: GateCore;
  readonly #contexts: ContextResolver;
  readonly #policy: PolicyDecider;
  readonly #pending: PendingRequests;
  readonly #issuer: GrantIssuer;
  readonly #limits: PendingLimits;
  readonly #scopes: RunScopes;
  readonly #superseder: Superseder;

  constructor(
    core: GateCore,
    parts: { contexts: ContextResolver; policy: PolicyDecider; pending: PendingRequests; issuer: GrantIssuer; scopes: RunScopes },
  ) {
    this.#core = core;
    this.#contexts = parts.contexts;
    this.#policy = parts.policy;
    this.#pending = parts.pending;
    this.#issuer = parts.issuer;
    this.#limits = new PendingLimits(core.config.limits);
    this.#scopes = parts.scopes;
    this.#superseder = new Superseder(core, parts.pending);
  }

  async *requestAccess(input: AccessInput, signal: AbortSignal): AsyncGenerator<AccessUpdate> {
    const { resource, ttl, context, slot } = await this.#admit(input);
    grantStage('admitted');
    const decision: Decision = ttl.deny
      ? { kind: 'deny', rule: null, reason: ttl.deny, code: 'TTL_EXCEEDS_MAX' }
      : this.#policy.decide(resource.name, context);
    const { audit, views } = this.#core;
    // `approval_scope: run`: an earlier request of this very run (attempt, commit) was approved.
    const reused = decision.kind === 'require' && decision.require.approvalScope ? this.#scopes.covering({ resource: resource.name, rule: decision.rule, context }) : undefined;
    const waits = decision.kind === 'require' && reused === undefined;
    // Only a request that waits for approvers keeps its place under the pending limits; its pending
    // entry gives it back when it stops pending. Until then, any failure gives it back here.
    if (!waits) slot.release();
    // A request going straight to its grant leaves its row to the grant's intent (written while the
    // intent's audit write is on disk, one transaction with the grant's row, before Vault is
    // called); every other path writes it here.
    const straightToGrant = decision.kind !== 'deny' && !waits;
    let recorded: { request: StoredRequest; created: Promise<void>; insertRow: () => Promise<void> };
    try {
      recorded = this.#record(input, resource, ttl, context, decision, reused);
      grantStage('request-recorded');
      if (!straightToGrant) await recorded.insertRow();
      if (waits) await audit.awaitAll([recorded.created]);
    } catch (err) {
      slot.release();
      throw err;
    }
    const { request, created, insertRow } = recorded;
    const trust = context.trust;

    if (decision.kind === 'deny') {
      const denied = audit.issue({ type: 'request.denied', requestId: request.id, trust, reason: decision.reason });
      await audit.awaitAll([created]);
      await audit.settled([denied]);
      const view = views.view(request, [], []);
      views.emit('decided', view);
      const code = decision.code ?? (decision.rule === null ? 'POLICY_NO_MATCH' : 'POLICY_DENY');
      yield { kind: 'denied', request: view, reason: decision.reason, code };
      return;
    }
    if (decision.kind === 'require' && reused === undefined) {
      await this.#superseder.supersedeOlder(request).catch((err: unknown) => {
        // Older requests then stay pending, still needing approval: the safe side.
        this.#core.log.error({ requestId: request.id, err: errorMessage(err) }, 'superseding older requests failed');
      });
      yield* this.#awaitApprovers(request, decision.require, signal, slot);
      return;
    }
    // Covered by a run's approval: no approver is asked; the audit record names the approval reused.
    const approved = reused
      ? audit.issue({ type: 'request.approved', requestId: request.id, trust, by: 'approval-scope', rule: decision.rule, reusedApproval: reused })
      : audit.issue({ type: 'request.approved', requestId: request.id, trust, by: 'policy', rule: decision.rule });
    yield* this.#issuer.grant(request, [], [], signal, [created, approved], insertRow);
  }

  /** Checks that may refuse a request before anything is recorded about it (except a rejection). */
  async #admit(input: AccessInput): Promise<{ resource: ResourceConfig; ttl: EffectiveTtl; context: RequestContext; slot: PendingSlot }> {
    const { audit, config, lifecycle } = this.#core;
    if (!lifecycle.accepting) throw new UnavailableError('jitgated is shutting down');
    if (!audit.healthy) throw new UnavailableError('audit log unavailable: no grants until it is repaired', { code: 'AUDIT_UNAVAILABLE' });

    const resource = ownValue(config.resources, input.resource);
    if (!resource) {
      throw new InvalidArgumentError('resource', `unknown resource ${JSON.stringify(input.resource)}`, { code: 'UNKNOWN_RESOURCE' });
    }
    const ttl = effectiveTtl(resource, input.ttlMs);

    let context: RequestContext;
    try {
      context = await this.#contexts.resolve(input.idToken, input.claimed);
    } catch (err) {
      await this.#auditRejection(input, err);
      throw err;
    }

    // Per repository and actor too (issue 11 #18): one repository cannot fill the approvers' queue.
    return { resource, ttl, context, slot: this.#limits.take(context) };
  }

  /**
   * Intent first: the request is in audit and state before anything acts on it. The append is
   * issued, not awaited, so that it shares one fsync with the records that follow it; every path
   * awaits it (`created`) before any effect (a Vault call, an approver being asked, a reply).
   */
  #record(
    input: AccessInput,
    resource: ResourceConfig,
    ttl: EffectiveTtl,
    context: RequestContext,
    decision: Decision,
    reused: string | undefined,
  ): { request: StoredRequest; created: Promise<void>; insertRow: () => Promise<void> } {
    const { audit, store, clock, log } = this.#core;
    const now = clock.now();
    const waits = decision.kind === 'require' && reused === undefined;
    const request: StoredRequest = {
      id: newId('req'),
      resource: resource.name,
      reason: input.reason,
      context,
      claimed: input.claimed,
      ttlMs: ttl.ms,
      status: waits ? 'pending' : decision.kind === 'deny' ? 'denied' : 'approved',
      ...(decision.kind === 'deny' ? { statusReason: decision.reason } : {}),
      rule: decision.rule,
      ...(decision.kind === 'require' ? { require: decision.require } : {}),
      createdAt: now,
      expiresAt: waits ? now + decision.require.expiresAfterMs : 0,
      updatedAt: now,
    };
    // Deferred: the next records (request.approved, grant.mint.intent) follow the state write
    // below, and all of them are awaited together, so they share one fsync.
    const created = audit.issue({
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
      ...(reused !== undefined ? { reusedApproval: reused } : {}),
    }, { defer: true });
    const insertRow = (): Promise<void> =>
      store.insertRequest(request).catch((err: unknown) => {
        throw new UnavailableError('state store unavailable', { cause: err, code: 'STATE_UNAVAILABLE' });
      });
    // One info line per grant is the budget (the 'granted' line); auto-approvals stay at debug here.
    const level = decision.kind === 'auto-approve' ? 'debug' : 'info';
    if (log.isLevelEnabled(level)) {
      log[level]({ requestId: request.id, resource: resource.name, decision: decision.kind, rule: decision.rule, trust: context.trust }, 'request received');
    }
    return { request, created, insertRow };
  }

  /** Waits for the approvers' verdict, reporting progress; on approval goes on to the grant. */
  async *#awaitApprovers(request: StoredRequest, require: RequireSpec, signal: AbortSignal, slot: PendingSlot): AsyncGenerator<AccessUpdate> {
    const { views } = this.#core;
    const pending = this.#pending;
    const entry = pending.register(request, require, slot);
    const onAbort = (): void => {
      void pending.withLock(entry, () => pending.finish(entry, { status: 'denied', reason: 'cancelled by the requester', code: 'CANCELLED' }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    try {
      const createdView = pendingView(views, entry);
      views.emit('created', createdView);
      yield { kind: 'pending', request: createdView };
      for await (const outcome of entry.outcomes) {
        if (outcome.kind === 'progress') {
          yield { kind: 'pending', request: pendingView(views, entry) };
          continue;
        }
        if (outcome.kind === 'approved') break;
        yield { kind: outcome.kind, request: pendingView(views, entry), reason: outcome.reason, code: outcome.code };
        return;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (entry.request.status !== 'approved') return;
    // The step may be gone by the time the last approval lands (its stream broke, or it stopped
    // reading after `approved`): nobody would take the grant, so the request is abandoned rather
    // than left approved for ever (issue 11 #13).
    let handedOver = false;
    try {
      yield { kind: 'approved', request: pendingView(views, entry) };
      if (signal.aborted) return;
      handedOver = true;
      yield* this.#issuer.grant(entry.request, approvalList(entry), entry.approvers, signal, []);
    } finally {
      if (!handedOver) await this.#abandon(entry.request);
    }
  }

  /** Ends an approved request whose step left before the grant: denied, reason `abandoned`, audited. */
  async #abandon(request: StoredRequest): Promise<void> {
    const { store, clock, audit, views, log } = this.#core;
    const reason = 'abandoned: the step disconnected before its grant';
    const moved = await transition(store, request.id, ['approved'], { status: 'denied', statusReason: reason, updatedAt: clock.now() }).catch((err: unknown) => {
      log.error({ requestId: request.id, err: errorMessage(err) }, 'state update failed');
      return false;
    });
    if (!moved) return;
    await audit.safe({ type: 'request.abandoned', requestId: request.id, trust: request.context.trust, reason });
    views.emit('decided', views.view({ ...request, status: 'denied', statusReason: reason }, [], request.require?.from ?? []));
  }

  async #auditRejection(input: AccessInput, err: unknown): Promise<void> {
    const mismatches = err instanceof JitgateError && 'mismatches' in err ? (err as { mismatches: unknown }).mismatches : undefined;
    await this.#core.audit.safe({
      type: 'request.rejected',
      resource: input.resource,
      reason: errorMessage(err),
      // The generic code: the audit record's `code` has meant the error's class since it existed.
      code: err instanceof JitgateError ? err.genericCode : 'ERR_INTERNAL',
      claimed: input.claimed,
      ...(mismatches !== undefined ? { mismatches } : {}),
    });
    this.#core.log.warn({ resource: input.resource, reason: errorMessage(err) }, 'request rejected');
  }
}
