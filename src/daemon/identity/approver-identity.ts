import type { JWTPayload } from 'jose';
import { IdentityError } from '../../common/errors.js';
import type { ApproverIdentity } from '../../model/context.js';
import type { Config } from '../config/types.js';
import { isName, optionalName, readGroups } from './approver-claims.js';

export interface ApproverIdentityRules {
  readonly groupsClaim: string;
  /** Static membership (group → names), matched on the subject or name. */
  readonly staticGroups: Config['groups'];
  /** Claims whose values become aliases: they only ever refuse self-approval. */
  readonly actorClaims: readonly string[];
}

/** Verified claims → the approver: subject, name, groups (IdP and static) and aliases. */
export function approverIdentityFrom(payload: JWTPayload, rules: ApproverIdentityRules): ApproverIdentity {
  const { sub } = payload;
  if (!isName(sub)) throw new IdentityError('approver token claim "sub" is invalid');
  const username = optionalName(payload, 'preferred_username');
  const email = optionalName(payload, 'email');
  const name = username ?? email ?? sub;
  const aliases = new Set<string>();
  for (const value of [username, email, email?.split('@')[0], optionalName(payload, 'nickname')]) {
    if (value !== undefined && value !== '') aliases.add(value);
  }
  for (const claim of rules.actorClaims) {
    const value = optionalName(payload, claim);
    if (value !== undefined) aliases.add(value);
  }
  const groups = new Set(readGroups(payload, rules.groupsClaim));
  for (const [group, members] of Object.entries(rules.staticGroups)) {
    if (members.includes(sub) || members.includes(name)) groups.add(group);
  }
  return { subject: sub, name, groups: [...groups].sort(), aliases: [...aliases], trust: 'idp' };
}
