// Original file: proto/jitgate/v1/access.proto


export interface ReleaseRequest {
  'grantId'?: (string);
  /**
   * The release_token from the Grant.
   */
  'releaseToken'?: (string);
}

export interface ReleaseRequest__Output {
  'grantId': (string);
  /**
   * The release_token from the Grant.
   */
  'releaseToken': (string);
}
