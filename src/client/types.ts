import type { RequestView } from '../model/request.js';

export type { ClaimedContext, RequestContext } from '../model/context.js';
export type { ApprovalView, RequestStatus } from '../model/request.js';

/** A request as approvers see it; times are wall-clock epoch milliseconds. Never holds credentials. */
export type RequestInfo = RequestView;

/** One step of a request's progress, as reported to `request({ onUpdate })`. */
export interface AccessProgress {
  readonly state: 'pending' | 'approved' | 'granted' | 'released' | 'denied' | 'expired';
  /** Denial or expiry reason; empty otherwise. */
  readonly reason: string;
  readonly request: RequestInfo;
}
