import type { Request } from '../../../generated/jitgate/v1/Request.js';
import type { ReviewRequest__Output } from '../../../generated/jitgate/v1/ReviewRequest.js';
import { toWireRequest } from '../convert.js';
import { metadataRecord } from '../metadata.js';
import type { UnaryHandler } from '../rpc-adapters.js';
import { checkRequestId, checkReview } from '../validate.js';
import type { HandlerDeps } from './deps.js';

/** Review: the after-the-fact verdict on a break-glass grant, by someone other than the breaker. */
export function reviewHandler({ gate, approvers }: HandlerDeps): UnaryHandler<ReviewRequest__Output, Request> {
  return async (request, { metadata, log }) => {
    const reviewer = await approvers.resolve(metadataRecord(metadata));
    const id = checkRequestId(request.id);
    const { verdict, note } = checkReview(request.verdict, request.note);
    await gate.review(id, reviewer, verdict, note);
    log.info({ requestId: id, reviewer: reviewer.subject, verdict }, 'break-glass reviewed');
    return toWireRequest(await gate.getRequest(id));
  };
}
