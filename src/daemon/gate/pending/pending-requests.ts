import { AsyncQueue } from '../../../common/async-queue.js';
import { errorMessage } from '../../../common/errors.js';
import type { ApprovalView, RequestView } from '../../../model/request.js';
import type { RequireSpec } from '../../config/types.js';
import type { StoredApproval, StoredRequest } from '../../state/store.js';
import { DeadlineQueue } from '../deadline-queue.js';
import type { GateCore } from '../gate-core.js';
import { transition } from '../transitions.js';
import { scheduleEscalations } from './escalation.js';
import type { PendingSlot } from './pending-limits.js';
import { pendingView, type Outcome, type PendingEnd, type PendingEntry } from './pending-entry.js';

/** Shared, so that each pending request's queue does not carry a closure of its own. */
function outcomeOverflow(): Error {
  return new Error('outcome queue overflow');
}

/**
 * The requests waiting for approvers, in memory: registration, the per-request lock, expiry (one
 * shared deadline queue) and the single place a pending request ends.
 */
export class PendingRequests {
  readonly #core: GateCore;
  readonly #entries = new Map<string, PendingEntry>();
  readonly #expiries: DeadlineQueue<PendingEntry>;

  constructor(core: GateCore) {
    this.#core = core;
    // Deadlines run on monotonic time: stepping the wall clock back cannot extend them.
    this.#expiries = new DeadlineQueue<PendingEntry>(core.clock, (entry) => {
      void this.withLock(entry, () => this.finish(entry, { status: 'expired', reason: 'no decision before the deadline', code: 'EXPIRED' }));
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): PendingEntry | undefined {
    return this.#entries.get(id);
  }

  /** Every pending entry, live: callers that end some take a copy first. */
  entries(): IterableIterator<PendingEntry> {
    return this.#entries.values();
  }

  /** The current view of each pending request, computed as it is read. */
  *views(): Generator<RequestView> {
    for (const entry of this.#entries.values()) yield this.view(entry);
  }

  /** Starts waiting for approvers; `capacity` (taken at intake) is given back when the request ends. */
  register(request: StoredRequest, require: RequireSpec, capacity: PendingSlot): PendingEntry {
    const entry: PendingEntry = {
      request,
      require,
      approvers: require.from,
      deadline: this.#core.clock.monotonic() + require.expiresAfterMs,
      slot: -1,
      outcomes: new AsyncQueue<Outcome>(1000, outcomeOverflow),
      lock: Promise.resolve(),
      capacity,
    };
    this.#entries.set(request.id, entry);
    this.#expiries.add(entry);
    scheduleEscalations(this.#core, entry, (run) => void this.withLock(entry, run));
    return entry;
  }

  /** Serialises `fn` with every other decision on this request. */
  withLock<T>(entry: PendingEntry, fn: () => Promise<T>): Promise<T> {
    const run = entry.lock.then(fn, fn);
    entry.lock = run.catch(() => undefined);
    return run;
  }

  view(entry: PendingEntry): RequestView {
    return pendingView(this.#core.views, entry);
  }

  /** Shutdown: every pending request ends as denied (`shutdown`); resolves when all have. */
  async endAll(): Promise<void> {
    const ending = [...this.#entries.values()].map((entry) =>
      this.withLock(entry, () => this.finish(entry, { status: 'denied', reason: 'shutdown', code: 'SHUTDOWN' })),
    );
    await Promise.allSettled(ending);
    this.#expiries.clear();
  }

  /** Moves a pending request to a final or approved state exactly once. Caller holds the lock. */
  async finish(entry: PendingEntry, end: PendingEnd): Promise<void> {
    if (entry.request.status !== 'pending') return;
    const { store, clock, audit, log, views } = this.#core;
    const { status, reason } = end;
    this.#settle(entry);
    let moved = false;
    let failed = false;
    try {
      moved = await transition(store, entry.request.id, ['pending'], { status, statusReason: reason, updatedAt: clock.now() });
    } catch (err) {
      failed = true;
      log.error({ requestId: entry.request.id, err: errorMessage(err) }, 'state store failed; denying');
    }
    // In a fleet another daemon may have decided first (the compare-and-set lost): that decision stands.
    if (!moved && !failed && this.#core.fleet) {
      const stored = await store.getRequest(entry.request.id).catch(() => undefined);
      if (stored && stored.status !== 'pending') {
        this.conclude(entry, stored, await store.listApprovals(stored.id).catch(() => []));
        return;
      }
    }
    // A failed state write must not become a grant: only a recorded approval proceeds.
    const final = moved ? status : status === 'approved' ? 'denied' : status;
    const finalReason = moved ? reason : status === 'approved' ? 'state store unavailable' : reason;
    entry.request = { ...entry.request, status: final, statusReason: finalReason, updatedAt: clock.now() };
    const audited = await audit.safe({ type: `request.${final}`, requestId: entry.request.id, trust: entry.request.context.trust, reason: finalReason });
    if (final === 'approved' && !audited) {
      entry.request = { ...entry.request, status: 'denied', statusReason: 'audit log unavailable' };
      await transition(store, entry.request.id, ['approved'], { status: 'denied', statusReason: 'audit log unavailable', updatedAt: clock.now() }).catch(() => false);
    }
    views.emit('decided', this.view(entry));
    if (entry.request.status === 'approved') {
      entry.outcomes.push({ kind: 'approved' });
    } else {
      // Denied in place of an approval (state or audit failed): the generic code, as for any denial
      // the client did not cause; otherwise the code of the end itself.
      const code = end.status === 'approved' ? 'ERR_ACCESS_DENIED' : end.code;
      entry.outcomes.push({ kind: entry.request.status === 'expired' ? 'expired' : 'denied', reason: entry.request.statusReason ?? final, code });
    }
    entry.outcomes.end();
  }

  /**
   * Fleet mode: the request was decided by another daemon (or this one, through the shared
   * database), and that decision is already recorded in state and in the decider's audit log. The
   * entry ends as stored; an approval goes on to the grant here, where the step waits.
   */
  conclude(entry: PendingEntry, stored: StoredRequest, approvals: readonly StoredApproval[]): void {
    if (entry.request.status !== 'pending' || stored.status === 'pending') return;
    this.#settle(entry);
    entry.request = stored;
    entry.approvals = approvalMap(approvals);
    this.#core.views.emit('decided', this.view(entry));
    if (stored.status === 'approved') {
      entry.outcomes.push({ kind: 'approved' });
    } else {
      const kind = stored.status === 'expired' ? 'expired' : 'denied';
      const code = kind === 'expired' ? 'EXPIRED' : approvals.some((a) => a.decision === 'deny') ? 'DENIED_BY_APPROVER' : 'ERR_ACCESS_DENIED';
      entry.outcomes.push({ kind, reason: stored.statusReason ?? stored.status, code });
    }
    entry.outcomes.end();
  }

  /** The request stops pending here: no expiry, no escalation, its place under the limits given back. */
  #settle(entry: PendingEntry): void {
    this.#expiries.delete(entry);
    for (const timer of entry.escalations ?? []) this.#core.clock.clearTimeout(timer);
    this.#entries.delete(entry.request.id);
    entry.capacity.release();
  }
}

/** Decisions keyed as a pending entry keeps them: approvals by subject, denials apart. */
export function approvalMap(approvals: readonly StoredApproval[]): Map<string, ApprovalView> {
  return new Map(approvals.map(({ requestId, groups, ...view }) => [view.decision === 'deny' ? `deny:${view.subject}` : view.subject, view]));
}
