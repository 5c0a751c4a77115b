/**
 * Guard rails for `identity.approvers`: approvers are named only by claims the IdP guarantees, and
 * an approver token can never be a CI job's token under another name.
 */
import type { RawConfig } from './schema.js';

type Report = (path: readonly PropertyKey[], message: string) => void;

/** OIDC display-name claims: every IdP lets users edit them, so naming approvers by them names nobody. */
const EDITABLE_CLAIMS: readonly string[] = ['name', 'given_name', 'family_name', 'middle_name', 'nickname'];

/** Issuers are compared as the daemon would reach them: a trailing slash does not make another IdP. */
function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function checkUsernameClaim(claim: string | undefined, groupsClaim: string, fail: Report): void {
  if (claim === undefined) return;
  const at = ['identity', 'approvers', 'username_claim'];
  if (EDITABLE_CLAIMS.includes(claim)) {
    fail(at, `${JSON.stringify(claim)} is a display name users edit themselves: name a claim the IdP guarantees, or leave it unset (verified email, else sub)`);
  } else if (claim === groupsClaim) {
    fail(at, 'must not be the groups claim');
  }
}

/**
 * A self-managed GitLab (or any IdP that is also a CI issuer) signs both job tokens and sign-in
 * tokens. With the same issuer and audience, a job's `id_token` would verify as an approver's.
 */
function checkCiCoincidence(identity: NonNullable<RawConfig['identity']>, fail: Report): void {
  const approvers = identity.approvers;
  if (approvers === undefined) return;
  identity.ci?.forEach((ci, i) => {
    if (!sameIssuer(ci.issuer, approvers.issuer) || ci.audience !== approvers.audience) return;
    fail(
      ['identity', 'approvers', 'audience'],
      `equals identity.ci[${i}] (issuer ${JSON.stringify(ci.issuer)}, audience ${JSON.stringify(ci.audience)}): ` +
        "a CI job's token would pass as an approver's; give approvers their own audience (the IdP client id approvers sign in with)",
    );
  });
}

export function checkApprovers(identity: RawConfig['identity'], fail: Report): void {
  if (identity?.approvers === undefined) return;
  checkUsernameClaim(identity.approvers.username_claim, identity.approvers.groups_claim ?? 'groups', fail);
  checkCiCoincidence(identity, fail);
}
