import type { RequestStatus } from '../../model/request.js';
import type { StateStore } from '../state/store.js';

/**
 * The request state machine as data: the statuses each status may move to. Every status change the
 * gate makes goes through {@link transition}, which checks it here before the store sees it, so a
 * reader finds the whole lifecycle in one table and a wrong move fails loudly in tests.
 *
 * - `pending` → `approved` (quorum met), `denied` (an approver, the requester cancelling, shutdown,
 *   a restart), `expired` (no decision before the deadline)
 * - `approved` → `granted` (credentials minted and recorded), `denied` (mint failed, state or audit
 *   unavailable, shutdown, a restart), `released` (revoked before it was handed out)
 * - `granted` → `released` (release, TTL, disconnect, shutdown, a restart)
 * - `released`, `denied`, `expired` are final.
 */
export const REQUEST_TRANSITIONS: { readonly [S in RequestStatus]: readonly RequestStatus[] } = {
  pending: ['approved', 'denied', 'expired'],
  approved: ['granted', 'denied', 'released'],
  granted: ['released'],
  released: [],
  denied: [],
  expired: [],
};

/** Whether `to` may follow `from`. */
export function canTransition(from: RequestStatus, to: RequestStatus): boolean {
  return REQUEST_TRANSITIONS[from].includes(to);
}

/** A move the table does not allow: a bug in the gate, never a client's fault. */
export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
}

/**
 * Moves request `id` from one of `from` to `patch.status` in state, compare-and-set: resolves false
 * when the request was no longer in any of `from` (someone else moved it first). Throws
 * IllegalTransitionError synchronously, before touching the store, for a move the table does not allow.
 */
export function transition(
  store: Pick<StateStore, 'transitionRequest'>,
  id: string,
  from: readonly RequestStatus[],
  patch: { readonly status: RequestStatus; readonly statusReason?: string; readonly updatedAt: number },
): Promise<boolean> {
  const illegal = from.filter((status) => !canTransition(status, patch.status));
  if (illegal.length > 0) {
    // Thrown, not returned: a caller's `.catch(() => false)` for store failures must not hide a bug.
    throw new IllegalTransitionError(`request ${id}: ${illegal.join('/')} → ${patch.status} is not a transition`);
  }
  return store.transitionRequest(id, from, patch);
}
