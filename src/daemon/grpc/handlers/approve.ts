import type { ApproveRequest__Output } from '../../../generated/jitgate/v1/ApproveRequest.js';
import type { Request } from '../../../generated/jitgate/v1/Request.js';
import { toWireRequest } from '../convert.js';
import { metadataRecord } from '../metadata.js';
import type { UnaryHandler } from '../rpc-adapters.js';
import { checkComment, checkRequestId } from '../validate.js';
import type { HandlerDeps } from './deps.js';

/** Approve: one approval by the caller's verified identity; the gate decides whether it counts. */
export function approveHandler({ gate, approvers }: HandlerDeps): UnaryHandler<ApproveRequest__Output, Request> {
  return async (request, { metadata, log }) => {
    const approver = await approvers.resolve(metadataRecord(metadata));
    const id = checkRequestId(request.id);
    const comment = checkComment(request.comment);
    // The ApprovalService is the CLI's and the SDK's channel; the client cannot claim another.
    const view = await gate.approve(id, approver, { ...(comment === undefined ? {} : { comment }), channel: 'cli' });
    log.info({ requestId: id, approver: approver.subject }, 'approved');
    return toWireRequest(view);
  };
}
