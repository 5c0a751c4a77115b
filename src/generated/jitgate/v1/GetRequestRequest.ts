// Original file: proto/jitgate/v1/approval.proto


export interface GetRequestRequest {
  'id'?: (string);
}

export interface GetRequestRequest__Output {
  'id': (string);
}
