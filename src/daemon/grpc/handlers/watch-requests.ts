import type { RequestEvent } from '../../../generated/jitgate/v1/RequestEvent.js';
import type { WatchRequestsRequest__Output } from '../../../generated/jitgate/v1/WatchRequestsRequest.js';
import { toWireRequest } from '../convert.js';
import { metadataRecord } from '../metadata.js';
import type { StreamHandler } from '../rpc-adapters.js';
import type { HandlerDeps } from './deps.js';

/** WatchRequests: the pending requests, then every change, until the client goes; approvers only. */
export function watchRequestsHandler({ gate, approvers }: HandlerDeps): StreamHandler<WatchRequestsRequest__Output, RequestEvent> {
  return async (_request, { metadata, signal }, write) => {
    await approvers.resolve(metadataRecord(metadata));
    for await (const view of gate.watchRequests(signal)) {
      write({ request: toWireRequest(view) });
      if (signal.aborted) break;
    }
    return undefined;
  };
}
