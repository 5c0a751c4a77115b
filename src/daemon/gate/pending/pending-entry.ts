import type { AsyncQueue } from '../../../common/async-queue.js';
import type { TimerHandle } from '../../../common/clock.js';
import type { ErrorCode } from '../../../model/error-codes.js';
import type { ApprovalView, BreakGlassView, RequestView } from '../../../model/request.js';
import type { RequireSpec } from '../../config/types.js';
import type { StoredRequest } from '../../state/store.js';
import type { Deadlined } from '../deadline-queue.js';
import type { PendingSlot } from './pending-limits.js';
import type { RequestViews } from '../request-views.js';

/** Outcome delivered to a waiting RequestAccess stream. */
export type Outcome =
  | { readonly kind: 'approved' }
  | { readonly kind: 'denied' | 'expired'; readonly reason: string; readonly code: ErrorCode }
  | { readonly kind: 'progress' };

/**
 * One per pending request, and there may be tens of thousands: fields that most requests never use
 * (approvals, escalation timers) are created on first use, and expiry is a slot in one shared
 * DeadlineQueue rather than a timer of its own.
 */
export interface PendingEntry extends Deadlined {
  request: StoredRequest;
  readonly require: RequireSpec;
  /** The rule's own list until an escalation replaces it (copy on write: most never escalate). */
  approvers: readonly string[];
  approvals?: Map<string, ApprovalView>;
  /** Groups of each approver at the time they approved, for `every_group` quorums. */
  groups?: Map<string, readonly string[]>;
  /** Every name each approver is known by: the same person through another channel counts once. */
  people?: Map<string, ReadonlySet<string>>;
  /** Set when an on-call approver broke the glass on it. */
  breakGlass?: BreakGlassView;
  /** Escalation timers, when the rule escalates. */
  escalations?: TimerHandle[];
  /** Monotonic deadline. */
  readonly deadline: number;
  readonly outcomes: AsyncQueue<Outcome>;
  /** Serialises decisions on this request: a racing approve and deny see one another's result. */
  lock: Promise<unknown>;
  /** Its place under the pending limits, given back when it stops pending. */
  readonly capacity: PendingSlot;
}

/** How a pending request ends, with the code its stream ends with. */
export type PendingEnd =
  | { readonly status: 'approved'; readonly reason: string }
  | { readonly status: 'denied' | 'expired'; readonly reason: string; readonly code: ErrorCode };

export function approvalList(entry: Pick<PendingEntry, 'approvals'>): ApprovalView[] {
  return entry.approvals ? [...entry.approvals.values()] : [];
}

/** What approvers see of a pending request: its approvals so far, who may decide, time left. */
export function pendingView(views: RequestViews, entry: PendingEntry): RequestView {
  const view = views.view(entry.request, approvalList(entry), entry.approvers, undefined, entry.deadline);
  return entry.breakGlass === undefined ? view : { ...view, breakGlass: entry.breakGlass };
}
