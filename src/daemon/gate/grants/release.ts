import { timingSafeEqual } from 'node:crypto';
import { NotFoundError, PermissionDeniedError } from '../../../common/errors.js';
import type { StateStore } from '../../state/store.js';
import type { LiveGrants } from './live-grants.js';
import type { Revocations } from './revocations.js';

/**
 * Release by the step: the release token (a nonce only the step saw) must match, compared in
 * constant time. Releasing a grant that already ended is not an error.
 */
export async function releaseGrant(
  parts: { readonly grants: LiveGrants; readonly revocations: Revocations; readonly store: StateStore },
  grantId: string,
  releaseToken: string,
): Promise<void> {
  const live = parts.grants.get(grantId);
  if (!live) {
    const stored = await parts.store.getGrant(grantId);
    if (!stored) throw new NotFoundError(`no grant ${JSON.stringify(grantId)}`, { code: 'GRANT_NOT_FOUND' });
    return; // already ended: releasing twice is not an error
  }
  const a = Buffer.from(releaseToken);
  const b = Buffer.from(live.releaseToken);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new PermissionDeniedError('release token does not match this grant', { code: 'RELEASE_TOKEN_MISMATCH' });
  }
  await parts.revocations.revokeLive(live, 'released');
}
