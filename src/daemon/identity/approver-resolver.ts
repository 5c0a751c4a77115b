import type { ApproverIdentity } from '../../model/context.js';
import { IdentityError } from '../../common/errors.js';
import type { Config } from '../config/types.js';
import type { ApproverResolver } from '../gate/types.js';
import { APPROVER_TOKEN_HEADER } from './approver-token-header.js';
import { createLocalApproverResolver, LOCAL_APPROVER_HEADER } from './local-approver-resolver.js';

export interface ApproverResolverOptions {
  /** Development only: approvers name themselves with `x-jitgate-approver`. */
  readonly local: boolean;
  /** Static group membership for local approvers. */
  readonly groups?: Config['groups'];
  /** Verifies IdP tokens; absent when `identity.approvers` is not configured. */
  readonly idp?: ApproverResolver;
}

const HOW_TO_PRESENT =
  'sign in to your identity provider and pass its ID token with `jitgate --approver-token-file FILE` (or env JITGATE_APPROVER_TOKEN_FILE)';

/**
 * Picks how an approver is identified. A presented bearer token always goes to the IdP, and one
 * that fails verification is a refusal: falling back to the self-asserted name would let anyone
 * downgrade a bad token into an identity of their choosing. The local header counts only when local
 * mode is on and no token was presented.
 */
export function createApproverResolver(options: ApproverResolverOptions): ApproverResolver {
  const local = options.local ? createLocalApproverResolver(options.groups ?? {}) : undefined;
  const { idp } = options;
  return {
    resolve(metadata: Readonly<Record<string, string>>): Promise<ApproverIdentity> {
      const hasToken = (metadata[APPROVER_TOKEN_HEADER] ?? '').trim() !== '';
      if (hasToken) {
        return idp !== undefined
          ? idp.resolve(metadata)
          : Promise.reject(new IdentityError('an approver token was presented but no identity provider is configured (identity.approvers)'));
      }
      if (local !== undefined) return local.resolve(metadata);
      if (idp === undefined) {
        return Promise.reject(new IdentityError('no approver identity provider is configured (identity.approvers) and local approvers are off'));
      }
      const named = (metadata[LOCAL_APPROVER_HEADER] ?? '') !== '';
      return Promise.reject(
        new IdentityError(`${named ? 'local approvers (--as) are off: ' : 'no approver identity: '}${HOW_TO_PRESENT}`),
      );
    },
  };
}
