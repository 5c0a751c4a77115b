import type { RequestStatus } from './request.js';
import type { State__Output } from '../generated/jitgate/v1/State.js';

/** Request status ↔ the proto's `State` enum: one table for the daemon's edge and the SDK. */
export const STATUS_TO_STATE: Readonly<Record<RequestStatus, State__Output>> = {
  pending: 'PENDING',
  approved: 'APPROVED',
  granted: 'GRANTED',
  released: 'RELEASED',
  denied: 'DENIED',
  expired: 'EXPIRED',
};

const STATE_TO_STATUS: ReadonlyMap<State__Output, RequestStatus> = new Map(
  Object.entries(STATUS_TO_STATE).map(([status, state]) => [state, status as RequestStatus]),
);

/** The status for a wire state; undefined for `STATE_UNSPECIFIED` or a value this build does not know. */
export function stateToStatus(state: State__Output): RequestStatus | undefined {
  return STATE_TO_STATUS.get(state);
}
