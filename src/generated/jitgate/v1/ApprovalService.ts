// Original file: proto/jitgate/v1/approval.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApproveRequest as _jitgate_v1_ApproveRequest, ApproveRequest__Output as _jitgate_v1_ApproveRequest__Output } from '../../jitgate/v1/ApproveRequest.js';
import type { BreakGlassRequest as _jitgate_v1_BreakGlassRequest, BreakGlassRequest__Output as _jitgate_v1_BreakGlassRequest__Output } from '../../jitgate/v1/BreakGlassRequest.js';
import type { DenyRequest as _jitgate_v1_DenyRequest, DenyRequest__Output as _jitgate_v1_DenyRequest__Output } from '../../jitgate/v1/DenyRequest.js';
import type { GetRequestRequest as _jitgate_v1_GetRequestRequest, GetRequestRequest__Output as _jitgate_v1_GetRequestRequest__Output } from '../../jitgate/v1/GetRequestRequest.js';
import type { ListRequestsRequest as _jitgate_v1_ListRequestsRequest, ListRequestsRequest__Output as _jitgate_v1_ListRequestsRequest__Output } from '../../jitgate/v1/ListRequestsRequest.js';
import type { ListRequestsResponse as _jitgate_v1_ListRequestsResponse, ListRequestsResponse__Output as _jitgate_v1_ListRequestsResponse__Output } from '../../jitgate/v1/ListRequestsResponse.js';
import type { Request as _jitgate_v1_Request, Request__Output as _jitgate_v1_Request__Output } from '../../jitgate/v1/Request.js';
import type { RequestEvent as _jitgate_v1_RequestEvent, RequestEvent__Output as _jitgate_v1_RequestEvent__Output } from '../../jitgate/v1/RequestEvent.js';
import type { ReviewRequest as _jitgate_v1_ReviewRequest, ReviewRequest__Output as _jitgate_v1_ReviewRequest__Output } from '../../jitgate/v1/ReviewRequest.js';
import type { WatchRequestsRequest as _jitgate_v1_WatchRequestsRequest, WatchRequestsRequest__Output as _jitgate_v1_WatchRequestsRequest__Output } from '../../jitgate/v1/WatchRequestsRequest.js';

/**
 * Used by approvers. Every call needs an approver identity in the metadata
 * ("authorization: Bearer <IdP token>", or "x-jitgate-approver: NAME" when local approvers are enabled).
 */
export interface ApprovalServiceClient extends grpc.Client {
  Approve(argument: _jitgate_v1_ApproveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Approve(argument: _jitgate_v1_ApproveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Approve(argument: _jitgate_v1_ApproveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Approve(argument: _jitgate_v1_ApproveRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  approve(argument: _jitgate_v1_ApproveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  approve(argument: _jitgate_v1_ApproveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  approve(argument: _jitgate_v1_ApproveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  approve(argument: _jitgate_v1_ApproveRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  
  /**
   * Grants a pending request without quorum. Only members of the matching rule's break_glass groups;
   * the reason (at least 10 characters) is announced by every notifier and audited.
   */
  BreakGlass(argument: _jitgate_v1_BreakGlassRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  BreakGlass(argument: _jitgate_v1_BreakGlassRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  BreakGlass(argument: _jitgate_v1_BreakGlassRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  BreakGlass(argument: _jitgate_v1_BreakGlassRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  /**
   * Grants a pending request without quorum. Only members of the matching rule's break_glass groups;
   * the reason (at least 10 characters) is announced by every notifier and audited.
   */
  breakGlass(argument: _jitgate_v1_BreakGlassRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  breakGlass(argument: _jitgate_v1_BreakGlassRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  breakGlass(argument: _jitgate_v1_BreakGlassRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  breakGlass(argument: _jitgate_v1_BreakGlassRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  
  Deny(argument: _jitgate_v1_DenyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Deny(argument: _jitgate_v1_DenyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Deny(argument: _jitgate_v1_DenyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Deny(argument: _jitgate_v1_DenyRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  deny(argument: _jitgate_v1_DenyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  deny(argument: _jitgate_v1_DenyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  deny(argument: _jitgate_v1_DenyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  deny(argument: _jitgate_v1_DenyRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  
  GetRequest(argument: _jitgate_v1_GetRequestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  GetRequest(argument: _jitgate_v1_GetRequestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  GetRequest(argument: _jitgate_v1_GetRequestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  GetRequest(argument: _jitgate_v1_GetRequestRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  getRequest(argument: _jitgate_v1_GetRequestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  getRequest(argument: _jitgate_v1_GetRequestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  getRequest(argument: _jitgate_v1_GetRequestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  getRequest(argument: _jitgate_v1_GetRequestRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  
  ListRequests(argument: _jitgate_v1_ListRequestsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_ListRequestsResponse__Output>): grpc.ClientUnaryCall;
  ListRequests(argument: _jitgate_v1_ListRequestsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_ListRequestsResponse__Output>): grpc.ClientUnaryCall;
  ListRequests(argument: _jitgate_v1_ListRequestsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_ListRequestsResponse__Output>): grpc.ClientUnaryCall;
  ListRequests(argument: _jitgate_v1_ListRequestsRequest, callback: grpc.requestCallback<_jitgate_v1_ListRequestsResponse__Output>): grpc.ClientUnaryCall;
  listRequests(argument: _jitgate_v1_ListRequestsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_ListRequestsResponse__Output>): grpc.ClientUnaryCall;
  listRequests(argument: _jitgate_v1_ListRequestsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_ListRequestsResponse__Output>): grpc.ClientUnaryCall;
  listRequests(argument: _jitgate_v1_ListRequestsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_ListRequestsResponse__Output>): grpc.ClientUnaryCall;
  listRequests(argument: _jitgate_v1_ListRequestsRequest, callback: grpc.requestCallback<_jitgate_v1_ListRequestsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Records the after-the-fact review of a break-glass grant, once, by someone other than the breaker.
   */
  Review(argument: _jitgate_v1_ReviewRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Review(argument: _jitgate_v1_ReviewRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Review(argument: _jitgate_v1_ReviewRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  Review(argument: _jitgate_v1_ReviewRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  /**
   * Records the after-the-fact review of a break-glass grant, once, by someone other than the breaker.
   */
  review(argument: _jitgate_v1_ReviewRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  review(argument: _jitgate_v1_ReviewRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  review(argument: _jitgate_v1_ReviewRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  review(argument: _jitgate_v1_ReviewRequest, callback: grpc.requestCallback<_jitgate_v1_Request__Output>): grpc.ClientUnaryCall;
  
  /**
   * Sends every pending request, then each change to any request, until the client cancels.
   */
  WatchRequests(argument: _jitgate_v1_WatchRequestsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_jitgate_v1_RequestEvent__Output>;
  WatchRequests(argument: _jitgate_v1_WatchRequestsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_jitgate_v1_RequestEvent__Output>;
  /**
   * Sends every pending request, then each change to any request, until the client cancels.
   */
  watchRequests(argument: _jitgate_v1_WatchRequestsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_jitgate_v1_RequestEvent__Output>;
  watchRequests(argument: _jitgate_v1_WatchRequestsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_jitgate_v1_RequestEvent__Output>;
  
}

/**
 * Used by approvers. Every call needs an approver identity in the metadata
 * ("authorization: Bearer <IdP token>", or "x-jitgate-approver: NAME" when local approvers are enabled).
 */
export interface ApprovalServiceHandlers extends grpc.UntypedServiceImplementation {
  Approve: grpc.handleUnaryCall<_jitgate_v1_ApproveRequest__Output, _jitgate_v1_Request>;
  
  /**
   * Grants a pending request without quorum. Only members of the matching rule's break_glass groups;
   * the reason (at least 10 characters) is announced by every notifier and audited.
   */
  BreakGlass: grpc.handleUnaryCall<_jitgate_v1_BreakGlassRequest__Output, _jitgate_v1_Request>;
  
  Deny: grpc.handleUnaryCall<_jitgate_v1_DenyRequest__Output, _jitgate_v1_Request>;
  
  GetRequest: grpc.handleUnaryCall<_jitgate_v1_GetRequestRequest__Output, _jitgate_v1_Request>;
  
  ListRequests: grpc.handleUnaryCall<_jitgate_v1_ListRequestsRequest__Output, _jitgate_v1_ListRequestsResponse>;
  
  /**
   * Records the after-the-fact review of a break-glass grant, once, by someone other than the breaker.
   */
  Review: grpc.handleUnaryCall<_jitgate_v1_ReviewRequest__Output, _jitgate_v1_Request>;
  
  /**
   * Sends every pending request, then each change to any request, until the client cancels.
   */
  WatchRequests: grpc.handleServerStreamingCall<_jitgate_v1_WatchRequestsRequest__Output, _jitgate_v1_RequestEvent>;
  
}

export interface ApprovalServiceDefinition extends grpc.ServiceDefinition {
  Approve: MethodDefinition<_jitgate_v1_ApproveRequest, _jitgate_v1_Request, _jitgate_v1_ApproveRequest__Output, _jitgate_v1_Request__Output>
  BreakGlass: MethodDefinition<_jitgate_v1_BreakGlassRequest, _jitgate_v1_Request, _jitgate_v1_BreakGlassRequest__Output, _jitgate_v1_Request__Output>
  Deny: MethodDefinition<_jitgate_v1_DenyRequest, _jitgate_v1_Request, _jitgate_v1_DenyRequest__Output, _jitgate_v1_Request__Output>
  GetRequest: MethodDefinition<_jitgate_v1_GetRequestRequest, _jitgate_v1_Request, _jitgate_v1_GetRequestRequest__Output, _jitgate_v1_Request__Output>
  ListRequests: MethodDefinition<_jitgate_v1_ListRequestsRequest, _jitgate_v1_ListRequestsResponse, _jitgate_v1_ListRequestsRequest__Output, _jitgate_v1_ListRequestsResponse__Output>
  Review: MethodDefinition<_jitgate_v1_ReviewRequest, _jitgate_v1_Request, _jitgate_v1_ReviewRequest__Output, _jitgate_v1_Request__Output>
  WatchRequests: MethodDefinition<_jitgate_v1_WatchRequestsRequest, _jitgate_v1_RequestEvent, _jitgate_v1_WatchRequestsRequest__Output, _jitgate_v1_RequestEvent__Output>
}
