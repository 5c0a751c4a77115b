import { IdentityError } from '../../common/errors.js';
import type { ApproverIdentity } from '../../model/context.js';
import type { IdpApproverResolver } from '../identity/idp-approver-resolver.js';
import type { OidcClient } from './oidc-client.js';
import type { Session } from './session-store.js';

/** The approver as the IdP knows them now; IdentityError means their sign-in is over. */
export type MembershipRecheck = (session: Session) => Promise<ApproverIdentity>;

/**
 * A web session lasts up to an hour, but a person removed from `sre` must not approve as `sre` for
 * the rest of it. So every decision asks the IdP's userinfo endpoint, with the sign-in's access
 * token, for the groups as they are now, and decides with those. A refused access token ends the
 * session (IdentityError); an unreachable IdP refuses the decision (UnavailableError): never the
 * groups of sign-in time instead. With `recheck_groups: false` the groups of sign-in time hold,
 * and the session lasts no longer than its ID token.
 */
export function membershipRecheck(enabled: boolean, oidc: OidcClient, resolver: Pick<IdpApproverResolver, 'regroup'>): MembershipRecheck {
  if (!enabled) return (session) => Promise.resolve(session.identity);
  return async (session) => {
    // Sign-in refuses an IdP that gave no access token while re-checks are on; kept so a session
    // made some other way fails closed.
    if (session.accessToken === undefined) throw new IdentityError('this sign-in cannot be re-checked at the identity provider');
    const claims = await oidc.userinfo(session.accessToken);
    const current = resolver.regroup(session.identity, claims);
    session.identity = current;
    return current;
  };
}
