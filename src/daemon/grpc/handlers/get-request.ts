import type { GetRequestRequest__Output } from '../../../generated/jitgate/v1/GetRequestRequest.js';
import type { Request } from '../../../generated/jitgate/v1/Request.js';
import { toWireRequest } from '../convert.js';
import { metadataRecord } from '../metadata.js';
import type { UnaryHandler } from '../rpc-adapters.js';
import { checkRequestId } from '../validate.js';
import type { HandlerDeps } from './deps.js';

/** GetRequest: one request with its verified context and approvals; approvers only. */
export function getRequestHandler({ gate, approvers }: HandlerDeps): UnaryHandler<GetRequestRequest__Output, Request> {
  return async (request, { metadata }) => {
    await approvers.resolve(metadataRecord(metadata));
    return toWireRequest(await gate.getRequest(checkRequestId(request.id)));
  };
}
