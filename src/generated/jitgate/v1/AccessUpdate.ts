// Original file: proto/jitgate/v1/access.proto

import type { State as _jitgate_v1_State, State__Output as _jitgate_v1_State__Output } from '../../jitgate/v1/State.js';
import type { Request as _jitgate_v1_Request, Request__Output as _jitgate_v1_Request__Output } from '../../jitgate/v1/Request.js';
import type { Grant as _jitgate_v1_Grant, Grant__Output as _jitgate_v1_Grant__Output } from '../../jitgate/v1/Grant.js';

export interface AccessUpdate {
  'state'?: (_jitgate_v1_State);
  /**
   * Denial or expiry reason; empty otherwise.
   */
  'reason'?: (string);
  'request'?: (_jitgate_v1_Request | null);
  /**
   * Set only on GRANTED.
   */
  'grant'?: (_jitgate_v1_Grant | null);
}

export interface AccessUpdate__Output {
  'state': (_jitgate_v1_State__Output);
  /**
   * Denial or expiry reason; empty otherwise.
   */
  'reason': (string);
  'request': (_jitgate_v1_Request__Output | null);
  /**
   * Set only on GRANTED.
   */
  'grant': (_jitgate_v1_Grant__Output | null);
}
