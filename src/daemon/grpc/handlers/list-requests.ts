import type { ListRequestsRequest__Output } from '../../../generated/jitgate/v1/ListRequestsRequest.js';
import type { ListRequestsResponse } from '../../../generated/jitgate/v1/ListRequestsResponse.js';
import { toWireRequest } from '../convert.js';
import { metadataRecord } from '../metadata.js';
import type { UnaryHandler } from '../rpc-adapters.js';
import { toStatuses } from '../validate.js';
import type { HandlerDeps } from './deps.js';

/** ListRequests: every request, or those in the given states; approvers only. */
export function listRequestsHandler({ gate, approvers }: HandlerDeps): UnaryHandler<ListRequestsRequest__Output, ListRequestsResponse> {
  return async (request, { metadata }) => {
    await approvers.resolve(metadataRecord(metadata));
    const statuses = toStatuses(request.statuses);
    const views = await gate.listRequests({ ...(statuses.length > 0 && { statuses }), ...(request.needsReview && { needsReview: true }) });
    return { requests: views.map(toWireRequest) };
  };
}
