// Original file: proto/jitgate/v1/approval.proto


export interface ApproveRequest {
  'id'?: (string);
  /**
   * Optional, recorded in the audit log.
   */
  'comment'?: (string);
}

export interface ApproveRequest__Output {
  'id': (string);
  /**
   * Optional, recorded in the audit log.
   */
  'comment': (string);
}
