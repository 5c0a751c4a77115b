// Original file: proto/jitgate/v1/access.proto


export interface ReleaseResponse {
}

export interface ReleaseResponse__Output {
}
