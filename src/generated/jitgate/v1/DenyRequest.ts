// Original file: proto/jitgate/v1/approval.proto


export interface DenyRequest {
  'id'?: (string);
  /**
   * Required: shown to the requester.
   */
  'reason'?: (string);
}

export interface DenyRequest__Output {
  'id': (string);
  /**
   * Required: shown to the requester.
   */
  'reason': (string);
}
