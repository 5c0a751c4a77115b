// Original file: proto/jitgate/v1/approval.proto


export interface WatchRequestsRequest {
}

export interface WatchRequestsRequest__Output {
}
