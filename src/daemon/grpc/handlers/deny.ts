import type { DenyRequest__Output } from '../../../generated/jitgate/v1/DenyRequest.js';
import type { Request } from '../../../generated/jitgate/v1/Request.js';
import { toWireRequest } from '../convert.js';
import { metadataRecord } from '../metadata.js';
import type { UnaryHandler } from '../rpc-adapters.js';
import { checkDenyReason, checkRequestId } from '../validate.js';
import type { HandlerDeps } from './deps.js';

/** Deny: ends a pending request by the caller's verified identity; the reason goes to the requester. */
export function denyHandler({ gate, approvers }: HandlerDeps): UnaryHandler<DenyRequest__Output, Request> {
  return async (request, { metadata, log }) => {
    const approver = await approvers.resolve(metadataRecord(metadata));
    const id = checkRequestId(request.id);
    const view = await gate.deny(id, approver, checkDenyReason(request.reason), { channel: 'cli' });
    log.info({ requestId: id, approver: approver.subject }, 'denied');
    return toWireRequest(view);
  };
}
