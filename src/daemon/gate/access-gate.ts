import type { ApproverIdentity } from '../../model/context.js';
import { NotFoundError, PermissionDeniedError } from '../../common/errors.js';
import type { AccessInput, AccessUpdate, BreakGlassView, RequestStatus, RequestView } from '../../model/request.js';
import { AuditTrail } from '../audit/audit-trail.js';
import type { StoredApproval, StoredRequest } from '../state/store.js';
import { planeMintRefusal } from './plane-authority.js';
import type { GateCore } from './gate-core.js';
import { LiveGrants } from './grants/live-grants.js';
import { GrantIssuer } from './grants/mint.js';
import { OrphanRecovery } from './grants/orphans.js';
import { releaseGrant } from './grants/release.js';
import { Revocations } from './grants/revocations.js';
import { BreakGlass } from './pending/break-glass.js';
import { Decisions } from './pending/decisions.js';
import { FleetDecisions } from './pending/fleet-decisions.js';
import { Intake } from './pending/intake.js';
import { PendingRequests } from './pending/pending-requests.js';
import { RunScopes } from './run-scope.js';
import type { AccessGateOptions, GateListener, RevocationResult } from './ports.js';
import { RequestViews, withoutRequestId } from './request-views.js';
import type { DecisionOptions, Gate } from './types.js';

/**
 * The request lifecycle: identity → policy → approvals → mint → release. Every transition is
 * written to state and audit before its side effect, and every error on the way denies.
 *
 * This class only wires the pieces: intake and approvals (`pending/`), grants (`grants/`), views
 * and watchers (`request-views.ts`), the state machine (`transitions.ts`).
 */
export class AccessGate implements Gate {
  readonly #core: GateCore;
  readonly #pending: PendingRequests;
  readonly #decisions: Decisions;
  /** Fleet mode: every decision goes through the shared database. */
  readonly #fleet: FleetDecisions | undefined;
  readonly #breakGlass: BreakGlass;
  readonly #intake: Intake;
  readonly #grants = new LiveGrants();
  readonly #revocations: Revocations;
  readonly #orphans: OrphanRecovery;
  readonly #policy: AccessGateOptions['policy'];

  constructor(options: AccessGateOptions) {
    const log = options.logger.child({ component: 'gate' });
    this.#policy = options.policy;
    this.#core = {
      config: options.config,
      store: options.store,
      clock: options.clock,
      log,
      audit: new AuditTrail(options.audit, log),
      views: new RequestViews(options.clock, log),
      lifecycle: { accepting: true },
      ...(options.fleet ? { fleet: options.fleet } : {}),
    };
    this.#pending = new PendingRequests(this.#core);
    // In memory, shared by the two ends: approvals make scopes, intake reuses them.
    const scopes = new RunScopes(options.clock);
    this.#decisions = new Decisions(this.#core, this.#pending, scopes);
    this.#fleet = options.fleet ? new FleetDecisions(this.#core, options.fleet, this.#pending, scopes) : undefined;
    this.#breakGlass = new BreakGlass(this.#core, this.#pending, this.#decisions);
    this.#revocations = new Revocations(this.#core, options.broker, this.#grants);
    this.#orphans = new OrphanRecovery(this.#core, this.#grants, this.#revocations);
    const issuer = new GrantIssuer(this.#core, options.broker, this.#grants, this.#revocations);
    this.#intake = new Intake(this.#core, { contexts: options.contexts, policy: options.policy, pending: this.#pending, issuer, scopes });
  }

  /** Registers an observer of request changes (notifiers). */
  onChange(listener: GateListener): void {
    this.#core.views.onChange(listener);
  }

  /** Registers an observer of revocation outcomes (metrics). Must not throw or block. */
  onRevocation(listener: (result: RevocationResult) => void): void {
    this.#revocations.onRevocation(listener);
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  get liveGrantCount(): number {
    return this.#grants.size;
  }

  /** Start-up: revokes every grant the previous process left live and ends its unfinished requests. */
  recover(): Promise<void> {
    return this.#orphans.recover();
  }

  /**
   * Shutdown: refuse new requests, end pending ones as denied (`shutdown`), revoke every live
   * grant. Resolves when all revocations have been attempted.
   */
  async shutdown(): Promise<void> {
    this.#core.lifecycle.accepting = false;
    this.#orphans.stop();
    await this.#pending.endAll();
    // A mint already at Vault finishes first: its grant must be revoked here too, never handed out.
    await this.#grants.mintsSettled();
    await Promise.allSettled(this.#grants.all().map((grant) => this.#revocations.revokeLive(grant, 'shutdown')));
    this.#core.views.endWatchers();
  }

  /**
   * Fleet mode, declared dead by the fleet: as shutdown, every pending request ends as denied and
   * every grant held is revoked (`reason`), but the gate stays up and takes new requests.
   */
  async dropAll(reason: string): Promise<void> {
    const pending = [...this.#pending.entries()];
    await Promise.allSettled(
      pending.map((entry) => this.#pending.withLock(entry, () => this.#pending.finish(entry, { status: 'denied', reason, code: 'ERR_UNAVAILABLE' }))),
    );
    await this.#grants.mintsSettled();
    await Promise.allSettled(this.#grants.all().map((grant) => this.#revocations.revokeLive(grant, reason)));
  }

  requestAccess(input: AccessInput, signal: AbortSignal): AsyncGenerator<AccessUpdate> {
    if (this.#core.config.fleet?.role === 'plane') {
      return refused(new PermissionDeniedError('this daemon is an approval plane (fleet.role: plane): it serves no build steps; ask the daemon on your runner host'));
    }
    return this.#intake.requestAccess(input, signal);
  }

  /** A fleet's runner daemons take no decisions: in `fleet.mint: plane` their database role could not record one. */
  #decides(): void {
    if (this.#core.config.fleet?.role === 'runner') {
      throw new PermissionDeniedError('this daemon is a fleet runner (fleet.role: runner): decide on the approval plane');
    }
  }

  release(grantId: string, releaseToken: string): Promise<void> {
    return releaseGrant({ grants: this.#grants, revocations: this.#revocations, store: this.#core.store }, grantId, releaseToken);
  }

  async approve(id: string, approver: ApproverIdentity, options?: DecisionOptions): Promise<RequestView> {
    this.#decides();
    return this.#fleet ? this.#fleet.approve(id, approver, options) : this.#decisions.approve(id, approver, options);
  }

  async deny(id: string, approver: ApproverIdentity, reason: string, options?: Pick<DecisionOptions, 'channel'>): Promise<RequestView> {
    this.#decides();
    return this.#fleet ? this.#fleet.deny(id, approver, reason, options) : this.#decisions.deny(id, approver, reason, options);
  }

  /**
   * Fleet mode: request `id` changed in the shared database (a notification, or the reconcile).
   * A pending request of this daemon catches up (and, approved, goes on to its grant); another
   * daemon's is shown to watchers. Returns whether this daemon's request changed.
   */
  syncRequest(id: string): Promise<boolean> {
    return this.#fleet ? this.#fleet.sync(id) : Promise.resolve(false);
  }

  /** `fleet.mint: plane`: why this approval plane must not mint for `request`, judged by its own policy (undefined: it may). */
  planeMintRefusal(request: StoredRequest, approvals: readonly StoredApproval[]): string | undefined {
    return planeMintRefusal(this.#policy, this.#core.config.resources, request, approvals);
  }

  /** Whether request `id` waits for approvers on this daemon. */
  isPendingHere(id: string): boolean {
    return this.#pending.get(id) !== undefined;
  }

  async breakGlass(id: string, approver: ApproverIdentity, reason: string): Promise<RequestView> {
    this.#decides();
    return this.#breakGlass.breakGlass(id, approver, reason);
  }

  review(id: string, reviewer: ApproverIdentity, verdict: 'ok' | 'concern', note?: string): Promise<BreakGlassView> {
    return this.#breakGlass.review(id, reviewer, verdict, note);
  }

  async listRequests(filter: { readonly statuses?: readonly RequestStatus[]; readonly needsReview?: boolean }): Promise<RequestView[]> {
    const { store } = this.#core;
    // Break-glass is rare: one read of its records serves the whole list.
    const records = await store.listBreakGlass({ unreviewed: filter.needsReview === true });
    let stored: StoredRequest[];
    if (filter.needsReview === true) {
      const found = await Promise.all([...records.keys()].map((id) => store.getRequest(id)));
      stored = found.filter((r): r is StoredRequest => r !== undefined && (filter.statuses?.includes(r.status) ?? true)).reverse();
    } else {
      stored = await store.listRequests({ ...(filter.statuses ? { statuses: filter.statuses } : {}), limit: 500 });
    }
    return Promise.all(stored.map((r) => this.#storedView(r, records.get(r.id))));
  }

  async getRequest(id: string): Promise<RequestView> {
    const stored = await this.#core.store.getRequest(id);
    if (!stored) throw new NotFoundError(`no request ${JSON.stringify(id)}`, { code: 'REQUEST_NOT_FOUND' });
    return this.#storedView(stored, await this.#core.store.getBreakGlass(id));
  }

  watchRequests(signal: AbortSignal): AsyncGenerator<RequestView> {
    if (!this.#fleet) return this.#core.views.watch(signal, this.#pending.views());
    return this.#fleetWatch(signal);
  }

  /** A fleet's watchers start from every daemon's pending requests, as the shared database has them. */
  async *#fleetWatch(signal: AbortSignal): AsyncGenerator<RequestView> {
    yield* this.#core.views.watch(signal, await this.listRequests({ statuses: ['pending'] }));
  }

  /** A request as state has it, with what only this process knows: live approvals, its grant. */
  async #storedView(stored: StoredRequest, breakGlass: BreakGlassView | undefined): Promise<RequestView> {
    const entry = this.#pending.get(stored.id);
    if (entry) return this.#pending.view(entry);
    const approvals = await this.#core.store.listApprovals(stored.id);
    const view = this.#core.views.view(stored, approvals.map(withoutRequestId), stored.require?.from ?? [], this.#grants.forRequest(stored.id)?.stored.id);
    return breakGlass === undefined ? view : { ...view, breakGlass };
  }
}

/** A stream that fails as it starts: the transport maps the error as for any other refusal. */
// eslint-disable-next-line require-yield -- it refuses before its first update
async function* refused(err: Error): AsyncGenerator<AccessUpdate> {
  await Promise.resolve();
  throw err;
}
