// Original file: proto/jitgate/v1/approval.proto

import type { Request as _jitgate_v1_Request, Request__Output as _jitgate_v1_Request__Output } from '../../jitgate/v1/Request.js';

export interface ListRequestsResponse {
  'requests'?: (_jitgate_v1_Request)[];
}

export interface ListRequestsResponse__Output {
  'requests': (_jitgate_v1_Request__Output)[];
}
