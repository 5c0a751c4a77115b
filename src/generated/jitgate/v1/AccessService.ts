// Original file: proto/jitgate/v1/access.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AccessRequest as _jitgate_v1_AccessRequest, AccessRequest__Output as _jitgate_v1_AccessRequest__Output } from '../../jitgate/v1/AccessRequest.js';
import type { AccessUpdate as _jitgate_v1_AccessUpdate, AccessUpdate__Output as _jitgate_v1_AccessUpdate__Output } from '../../jitgate/v1/AccessUpdate.js';
import type { ReleaseRequest as _jitgate_v1_ReleaseRequest, ReleaseRequest__Output as _jitgate_v1_ReleaseRequest__Output } from '../../jitgate/v1/ReleaseRequest.js';
import type { ReleaseResponse as _jitgate_v1_ReleaseResponse, ReleaseResponse__Output as _jitgate_v1_ReleaseResponse__Output } from '../../jitgate/v1/ReleaseResponse.js';

/**
 * Used by build steps to obtain and give back short-lived credentials.
 */
export interface AccessServiceClient extends grpc.Client {
  /**
   * Revokes a live grant at once (Vault token and leases).
   */
  Release(argument: _jitgate_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _jitgate_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _jitgate_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _jitgate_v1_ReleaseRequest, callback: grpc.requestCallback<_jitgate_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Revokes a live grant at once (Vault token and leases).
   */
  release(argument: _jitgate_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _jitgate_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _jitgate_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _jitgate_v1_ReleaseRequest, callback: grpc.requestCallback<_jitgate_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Asks for access. The stream reports PENDING → APPROVED → GRANTED, or DENIED / EXPIRED.
   * After GRANTED it stays open while the step holds the grant: closing or breaking it
   * revokes the credentials. It ends after RELEASED.
   */
  RequestAccess(argument: _jitgate_v1_AccessRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_jitgate_v1_AccessUpdate__Output>;
  RequestAccess(argument: _jitgate_v1_AccessRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_jitgate_v1_AccessUpdate__Output>;
  /**
   * Asks for access. The stream reports PENDING → APPROVED → GRANTED, or DENIED / EXPIRED.
   * After GRANTED it stays open while the step holds the grant: closing or breaking it
   * revokes the credentials. It ends after RELEASED.
   */
  requestAccess(argument: _jitgate_v1_AccessRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_jitgate_v1_AccessUpdate__Output>;
  requestAccess(argument: _jitgate_v1_AccessRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_jitgate_v1_AccessUpdate__Output>;
  
}

/**
 * Used by build steps to obtain and give back short-lived credentials.
 */
export interface AccessServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Revokes a live grant at once (Vault token and leases).
   */
  Release: grpc.handleUnaryCall<_jitgate_v1_ReleaseRequest__Output, _jitgate_v1_ReleaseResponse>;
  
  /**
   * Asks for access. The stream reports PENDING → APPROVED → GRANTED, or DENIED / EXPIRED.
   * After GRANTED it stays open while the step holds the grant: closing or breaking it
   * revokes the credentials. It ends after RELEASED.
   */
  RequestAccess: grpc.handleServerStreamingCall<_jitgate_v1_AccessRequest__Output, _jitgate_v1_AccessUpdate>;
  
}

export interface AccessServiceDefinition extends grpc.ServiceDefinition {
  Release: MethodDefinition<_jitgate_v1_ReleaseRequest, _jitgate_v1_ReleaseResponse, _jitgate_v1_ReleaseRequest__Output, _jitgate_v1_ReleaseResponse__Output>
  RequestAccess: MethodDefinition<_jitgate_v1_AccessRequest, _jitgate_v1_AccessUpdate, _jitgate_v1_AccessRequest__Output, _jitgate_v1_AccessUpdate__Output>
}
