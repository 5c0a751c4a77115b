// Original file: proto/jitgate/v1/approval.proto

import type { Request as _jitgate_v1_Request, Request__Output as _jitgate_v1_Request__Output } from '../../jitgate/v1/Request.js';

export interface RequestEvent {
  'request'?: (_jitgate_v1_Request | null);
}

export interface RequestEvent__Output {
  'request': (_jitgate_v1_Request__Output | null);
}
