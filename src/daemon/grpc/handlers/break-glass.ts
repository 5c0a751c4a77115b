import type { BreakGlassRequest__Output } from '../../../generated/jitgate/v1/BreakGlassRequest.js';
import type { Request } from '../../../generated/jitgate/v1/Request.js';
import { toWireRequest } from '../convert.js';
import { metadataRecord } from '../metadata.js';
import type { UnaryHandler } from '../rpc-adapters.js';
import { checkBreakGlassReason, checkRequestId } from '../validate.js';
import type { HandlerDeps } from './deps.js';

/** BreakGlass: grants a pending request without quorum, for a member of the rule's break-glass groups. */
export function breakGlassHandler({ gate, approvers }: HandlerDeps): UnaryHandler<BreakGlassRequest__Output, Request> {
  return async (request, { metadata, log }) => {
    const approver = await approvers.resolve(metadataRecord(metadata));
    const id = checkRequestId(request.id);
    const view = await gate.breakGlass(id, approver, checkBreakGlassReason(request.reason));
    log.warn({ requestId: id, approver: approver.subject }, 'break-glass');
    return toWireRequest(view);
  };
}
