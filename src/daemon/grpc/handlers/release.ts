import type { ReleaseRequest__Output } from '../../../generated/jitgate/v1/ReleaseRequest.js';
import type { ReleaseResponse } from '../../../generated/jitgate/v1/ReleaseResponse.js';
import type { UnaryHandler } from '../rpc-adapters.js';
import { checkRelease } from '../validate.js';
import type { HandlerDeps } from './deps.js';

/** Release: hands a grant back early; the release token proves the caller holds it. */
export function releaseHandler({ gate }: HandlerDeps): UnaryHandler<ReleaseRequest__Output, ReleaseResponse> {
  return async (request, { log }) => {
    const { grantId, releaseToken } = checkRelease(request.grantId, request.releaseToken);
    await gate.release(grantId, releaseToken);
    log.debug({ grantId }, 'grant released');
    return {};
  };
}
