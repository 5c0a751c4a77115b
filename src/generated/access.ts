import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AccessRequest as _jitgate_v1_AccessRequest, AccessRequest__Output as _jitgate_v1_AccessRequest__Output } from './jitgate/v1/AccessRequest.js';
import type { AccessServiceClient as _jitgate_v1_AccessServiceClient, AccessServiceDefinition as _jitgate_v1_AccessServiceDefinition } from './jitgate/v1/AccessService.js';
import type { AccessUpdate as _jitgate_v1_AccessUpdate, AccessUpdate__Output as _jitgate_v1_AccessUpdate__Output } from './jitgate/v1/AccessUpdate.js';
import type { Approval as _jitgate_v1_Approval, Approval__Output as _jitgate_v1_Approval__Output } from './jitgate/v1/Approval.js';
import type { BreakGlass as _jitgate_v1_BreakGlass, BreakGlass__Output as _jitgate_v1_BreakGlass__Output } from './jitgate/v1/BreakGlass.js';
import type { ClaimedContext as _jitgate_v1_ClaimedContext, ClaimedContext__Output as _jitgate_v1_ClaimedContext__Output } from './jitgate/v1/ClaimedContext.js';
import type { Context as _jitgate_v1_Context, Context__Output as _jitgate_v1_Context__Output } from './jitgate/v1/Context.js';
import type { Grant as _jitgate_v1_Grant, Grant__Output as _jitgate_v1_Grant__Output } from './jitgate/v1/Grant.js';
import type { ReleaseRequest as _jitgate_v1_ReleaseRequest, ReleaseRequest__Output as _jitgate_v1_ReleaseRequest__Output } from './jitgate/v1/ReleaseRequest.js';
import type { ReleaseResponse as _jitgate_v1_ReleaseResponse, ReleaseResponse__Output as _jitgate_v1_ReleaseResponse__Output } from './jitgate/v1/ReleaseResponse.js';
import type { Request as _jitgate_v1_Request, Request__Output as _jitgate_v1_Request__Output } from './jitgate/v1/Request.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  jitgate: {
    v1: {
      AccessRequest: MessageTypeDefinition<_jitgate_v1_AccessRequest, _jitgate_v1_AccessRequest__Output>
      /**
       * Used by build steps to obtain and give back short-lived credentials.
       */
      AccessService: SubtypeConstructor<typeof grpc.Client, _jitgate_v1_AccessServiceClient> & { service: _jitgate_v1_AccessServiceDefinition }
      AccessUpdate: MessageTypeDefinition<_jitgate_v1_AccessUpdate, _jitgate_v1_AccessUpdate__Output>
      Approval: MessageTypeDefinition<_jitgate_v1_Approval, _jitgate_v1_Approval__Output>
      BreakGlass: MessageTypeDefinition<_jitgate_v1_BreakGlass, _jitgate_v1_BreakGlass__Output>
      ClaimedContext: MessageTypeDefinition<_jitgate_v1_ClaimedContext, _jitgate_v1_ClaimedContext__Output>
      Context: MessageTypeDefinition<_jitgate_v1_Context, _jitgate_v1_Context__Output>
      Grant: MessageTypeDefinition<_jitgate_v1_Grant, _jitgate_v1_Grant__Output>
      ReleaseRequest: MessageTypeDefinition<_jitgate_v1_ReleaseRequest, _jitgate_v1_ReleaseRequest__Output>
      ReleaseResponse: MessageTypeDefinition<_jitgate_v1_ReleaseResponse, _jitgate_v1_ReleaseResponse__Output>
      Request: MessageTypeDefinition<_jitgate_v1_Request, _jitgate_v1_Request__Output>
      State: EnumTypeDefinition
    }
  }
}

