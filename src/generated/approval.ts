import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Approval as _jitgate_v1_Approval, Approval__Output as _jitgate_v1_Approval__Output } from './jitgate/v1/Approval.js';
import type { ApprovalServiceClient as _jitgate_v1_ApprovalServiceClient, ApprovalServiceDefinition as _jitgate_v1_ApprovalServiceDefinition } from './jitgate/v1/ApprovalService.js';
import type { ApproveRequest as _jitgate_v1_ApproveRequest, ApproveRequest__Output as _jitgate_v1_ApproveRequest__Output } from './jitgate/v1/ApproveRequest.js';
import type { BreakGlass as _jitgate_v1_BreakGlass, BreakGlass__Output as _jitgate_v1_BreakGlass__Output } from './jitgate/v1/BreakGlass.js';
import type { BreakGlassRequest as _jitgate_v1_BreakGlassRequest, BreakGlassRequest__Output as _jitgate_v1_BreakGlassRequest__Output } from './jitgate/v1/BreakGlassRequest.js';
import type { ClaimedContext as _jitgate_v1_ClaimedContext, ClaimedContext__Output as _jitgate_v1_ClaimedContext__Output } from './jitgate/v1/ClaimedContext.js';
import type { Context as _jitgate_v1_Context, Context__Output as _jitgate_v1_Context__Output } from './jitgate/v1/Context.js';
import type { DenyRequest as _jitgate_v1_DenyRequest, DenyRequest__Output as _jitgate_v1_DenyRequest__Output } from './jitgate/v1/DenyRequest.js';
import type { GetRequestRequest as _jitgate_v1_GetRequestRequest, GetRequestRequest__Output as _jitgate_v1_GetRequestRequest__Output } from './jitgate/v1/GetRequestRequest.js';
import type { Grant as _jitgate_v1_Grant, Grant__Output as _jitgate_v1_Grant__Output } from './jitgate/v1/Grant.js';
import type { ListRequestsRequest as _jitgate_v1_ListRequestsRequest, ListRequestsRequest__Output as _jitgate_v1_ListRequestsRequest__Output } from './jitgate/v1/ListRequestsRequest.js';
import type { ListRequestsResponse as _jitgate_v1_ListRequestsResponse, ListRequestsResponse__Output as _jitgate_v1_ListRequestsResponse__Output } from './jitgate/v1/ListRequestsResponse.js';
import type { Request as _jitgate_v1_Request, Request__Output as _jitgate_v1_Request__Output } from './jitgate/v1/Request.js';
import type { RequestEvent as _jitgate_v1_RequestEvent, RequestEvent__Output as _jitgate_v1_RequestEvent__Output } from './jitgate/v1/RequestEvent.js';
import type { ReviewRequest as _jitgate_v1_ReviewRequest, ReviewRequest__Output as _jitgate_v1_ReviewRequest__Output } from './jitgate/v1/ReviewRequest.js';
import type { WatchRequestsRequest as _jitgate_v1_WatchRequestsRequest, WatchRequestsRequest__Output as _jitgate_v1_WatchRequestsRequest__Output } from './jitgate/v1/WatchRequestsRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  jitgate: {
    v1: {
      Approval: MessageTypeDefinition<_jitgate_v1_Approval, _jitgate_v1_Approval__Output>
      /**
       * Used by approvers. Every call needs an approver identity in the metadata
       * ("authorization: Bearer <IdP token>", or "x-jitgate-approver: NAME" when local approvers are enabled).
       */
      ApprovalService: SubtypeConstructor<typeof grpc.Client, _jitgate_v1_ApprovalServiceClient> & { service: _jitgate_v1_ApprovalServiceDefinition }
      ApproveRequest: MessageTypeDefinition<_jitgate_v1_ApproveRequest, _jitgate_v1_ApproveRequest__Output>
      BreakGlass: MessageTypeDefinition<_jitgate_v1_BreakGlass, _jitgate_v1_BreakGlass__Output>
      BreakGlassRequest: MessageTypeDefinition<_jitgate_v1_BreakGlassRequest, _jitgate_v1_BreakGlassRequest__Output>
      ClaimedContext: MessageTypeDefinition<_jitgate_v1_ClaimedContext, _jitgate_v1_ClaimedContext__Output>
      Context: MessageTypeDefinition<_jitgate_v1_Context, _jitgate_v1_Context__Output>
      DenyRequest: MessageTypeDefinition<_jitgate_v1_DenyRequest, _jitgate_v1_DenyRequest__Output>
      GetRequestRequest: MessageTypeDefinition<_jitgate_v1_GetRequestRequest, _jitgate_v1_GetRequestRequest__Output>
      Grant: MessageTypeDefinition<_jitgate_v1_Grant, _jitgate_v1_Grant__Output>
      ListRequestsRequest: MessageTypeDefinition<_jitgate_v1_ListRequestsRequest, _jitgate_v1_ListRequestsRequest__Output>
      ListRequestsResponse: MessageTypeDefinition<_jitgate_v1_ListRequestsResponse, _jitgate_v1_ListRequestsResponse__Output>
      Request: MessageTypeDefinition<_jitgate_v1_Request, _jitgate_v1_Request__Output>
      RequestEvent: MessageTypeDefinition<_jitgate_v1_RequestEvent, _jitgate_v1_RequestEvent__Output>
      ReviewRequest: MessageTypeDefinition<_jitgate_v1_ReviewRequest, _jitgate_v1_ReviewRequest__Output>
      State: EnumTypeDefinition
      WatchRequestsRequest: MessageTypeDefinition<_jitgate_v1_WatchRequestsRequest, _jitgate_v1_WatchRequestsRequest__Output>
    }
  }
}

