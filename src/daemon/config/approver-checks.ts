/**
 * Guard rails for `identity.approvers`: approvers are named only by claims the IdP guarantees, and
 * an approver token can never be a CI job's token under another name.
 */
import type { RawConfig } from './schema.js';

type Report = (path: readonly PropertyKey[], message: string) => void;

/** OIDC display-name claims: every IdP lets users edit them, so naming approvers by them names nobody. */
const EDITABLE_CLAIMS: readonly string[] = ['name', 'given_name', 'family_name', 'middle_name', 'nickname'];

function checkUsernameClaim(claim: string | undefined, groupsClaim: string, fail: Report): void {
  if (claim === undefined) return;
  const at = ['identity', 'approvers', 'username_claim'];
  if (EDITABLE_CLAIMS.includes(claim)) {
    fail(at, `${JSON.stringify(claim)} is a display name users edit themselves: name a claim the IdP guarantees, or leave it unset (verified email, else sub)`);
  } else if (claim === groupsClaim) {
    fail(at, 'must not be the groups claim');
  }
}

export function checkApprovers(identity: RawConfig['identity'], fail: Report): void {
  if (identity?.approvers === undefined) return;
  checkUsernameClaim(identity.approvers.username_claim, identity.approvers.groups_claim ?? 'groups', fail);
}
