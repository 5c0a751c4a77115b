// Original file: proto/jitgate/v1/approval.proto


export interface BreakGlassRequest {
  'id'?: (string);
  /**
   * Required, at least 10 characters: why the approvers could not be waited for (e.g. the incident).
   */
  'reason'?: (string);
}

export interface BreakGlassRequest__Output {
  'id': (string);
  /**
   * Required, at least 10 characters: why the approvers could not be waited for (e.g. the incident).
   */
  'reason': (string);
}
