// Original file: proto/jitgate/v1/approval.proto

import type { State as _jitgate_v1_State, State__Output as _jitgate_v1_State__Output } from '../../jitgate/v1/State.js';

export interface ListRequestsRequest {
  /**
   * Only requests in these states; empty means all.
   */
  'statuses'?: (_jitgate_v1_State)[];
  /**
   * Only break-glass grants nobody has reviewed yet.
   */
  'needsReview'?: (boolean);
}

export interface ListRequestsRequest__Output {
  /**
   * Only requests in these states; empty means all.
   */
  'statuses': (_jitgate_v1_State__Output)[];
  /**
   * Only break-glass grants nobody has reviewed yet.
   */
  'needsReview': (boolean);
}
