import type * as grpc from '@grpc/grpc-js';
import { grantStage } from '../../../common/grant-stages.js';
import type { ErrorCode } from '../../../model/error-codes.js';
import type { AccessUpdate } from '../../../model/request.js';
import type { AccessRequest__Output } from '../../../generated/jitgate/v1/AccessRequest.js';
import type { AccessUpdate as WireAccessUpdate } from '../../../generated/jitgate/v1/AccessUpdate.js';
import { toWireUpdate } from '../convert.js';
import type { StreamHandler } from '../rpc-adapters.js';
import { errorCodeTrailer } from '../status.js';
import { toAccessInput } from '../validate.js';
import type { HandlerDeps } from './deps.js';

/** The code of a request that ended without credentials, as the gate named it on the update. */
function endCode(update: AccessUpdate): ErrorCode | undefined {
  return update.kind === 'denied' || update.kind === 'expired' ? update.code : undefined;
}

/**
 * RequestAccess: every update of the gate, in order, until the gate is done. A stream that ends
 * with a denial or expiry carries its code in the trailers: the proto messages stay as they are.
 */
export function requestAccessHandler({ gate, logger }: HandlerDeps): StreamHandler<AccessRequest__Output, WireAccessUpdate> {
  return async (request, ctx, write) => {
    const input = toAccessInput(request);
    // Per-update lines are debug: the gate logs one info line per grant, and that is the budget.
    const debug = logger.isLevelEnabled('debug');
    let trailer: grpc.Metadata | undefined;
    grantStage('received');
    for await (const update of gate.requestAccess(input, ctx.signal)) {
      if (debug) ctx.log.debug({ resource: input.resource, requestId: update.request.id, state: update.kind }, 'access update');
      write(toWireUpdate(update));
      if (update.kind === 'granted') grantStage('replied');
      const code = endCode(update);
      if (code !== undefined) trailer = errorCodeTrailer(code);
      if (ctx.signal.aborted) break;
    }
    return trailer;
  };
}
