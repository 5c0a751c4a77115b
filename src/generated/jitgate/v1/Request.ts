// Original file: proto/jitgate/v1/types.proto

import type { Context as _jitgate_v1_Context, Context__Output as _jitgate_v1_Context__Output } from '../../jitgate/v1/Context.js';
import type { State as _jitgate_v1_State, State__Output as _jitgate_v1_State__Output } from '../../jitgate/v1/State.js';
import type { Approval as _jitgate_v1_Approval, Approval__Output as _jitgate_v1_Approval__Output } from '../../jitgate/v1/Approval.js';
import type { BreakGlass as _jitgate_v1_BreakGlass, BreakGlass__Output as _jitgate_v1_BreakGlass__Output } from '../../jitgate/v1/BreakGlass.js';
import type { Long } from '@grpc/proto-loader';

/**
 * What approvers (and the requester's progress display) see of a request. Never holds credentials.
 */
export interface Request {
  'id'?: (string);
  'resource'?: (string);
  /**
   * The requester's reason.
   */
  'reason'?: (string);
  'context'?: (_jitgate_v1_Context | null);
  'status'?: (_jitgate_v1_State);
  /**
   * Why it is in a final state ("shutdown", "expired", a denier's reason, ...); empty otherwise.
   */
  'statusReason'?: (string);
  /**
   * The deciding policy rule; empty when no rule matched (default deny).
   */
  'rule'?: (string);
  'approvalsRequired'?: (number);
  /**
   * Principals allowed to approve right now ("group:sre", "user:bob"), escalations included.
   */
  'approvers'?: (string)[];
  'approvals'?: (_jitgate_v1_Approval)[];
  /**
   * Wall-clock epoch milliseconds.
   */
  'createdAtMs'?: (number | string | Long);
  /**
   * Wall-clock epoch milliseconds at which a pending request expires; 0 when not pending.
   */
  'expiresAtMs'?: (number | string | Long);
  /**
   * Granted TTL in seconds.
   */
  'ttlSeconds'?: (number);
  /**
   * Set once credentials were minted.
   */
  'grantId'?: (string);
  /**
   * Set when the request was granted by break-glass.
   */
  'breakGlass'?: (_jitgate_v1_BreakGlass | null);
}

/**
 * What approvers (and the requester's progress display) see of a request. Never holds credentials.
 */
export interface Request__Output {
  'id': (string);
  'resource': (string);
  /**
   * The requester's reason.
   */
  'reason': (string);
  'context': (_jitgate_v1_Context__Output | null);
  'status': (_jitgate_v1_State__Output);
  /**
   * Why it is in a final state ("shutdown", "expired", a denier's reason, ...); empty otherwise.
   */
  'statusReason': (string);
  /**
   * The deciding policy rule; empty when no rule matched (default deny).
   */
  'rule': (string);
  'approvalsRequired': (number);
  /**
   * Principals allowed to approve right now ("group:sre", "user:bob"), escalations included.
   */
  'approvers': (string)[];
  'approvals': (_jitgate_v1_Approval__Output)[];
  /**
   * Wall-clock epoch milliseconds.
   */
  'createdAtMs': (string);
  /**
   * Wall-clock epoch milliseconds at which a pending request expires; 0 when not pending.
   */
  'expiresAtMs': (string);
  /**
   * Granted TTL in seconds.
   */
  'ttlSeconds': (number);
  /**
   * Set once credentials were minted.
   */
  'grantId': (string);
  /**
   * Set when the request was granted by break-glass.
   */
  'breakGlass': (_jitgate_v1_BreakGlass__Output | null);
}
