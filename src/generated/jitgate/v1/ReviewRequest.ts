// Original file: proto/jitgate/v1/approval.proto


export interface ReviewRequest {
  'id'?: (string);
  /**
   * "ok" or "concern".
   */
  'verdict'?: (string);
  /**
   * Required with "concern".
   */
  'note'?: (string);
}

export interface ReviewRequest__Output {
  'id': (string);
  /**
   * "ok" or "concern".
   */
  'verdict': (string);
  /**
   * Required with "concern".
   */
  'note': (string);
}
