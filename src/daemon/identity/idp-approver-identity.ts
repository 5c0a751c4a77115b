import type { JWTPayload } from 'jose';
import { IdentityError } from '../../common/errors.js';
import { ownValue } from '../../common/own-keys.js';
import type { ApproverIdentity } from '../../model/context.js';
import type { Config } from '../config/types.js';
import { isName, optionalName, readGroups } from './approver-claims.js';

export interface ApproverIdentityRules {
  readonly groupsClaim: string;
  /** `identity.approvers.username_claim`: a claim the IdP guarantees, used as the name instead of the default. */
  readonly usernameClaim?: string | undefined;
  /** Static membership (group → names), matched on the subject or the verified name. */
  readonly staticGroups: Config['groups'];
  /** Claims whose values become aliases: they only ever refuse self-approval. */
  readonly actorClaims: readonly string[];
}

/** `email`, but only when the IdP says it verified it: anyone can type an address into a profile. */
function verifiedEmail(payload: JWTPayload): string | undefined {
  const email = optionalName(payload, 'email');
  // Strictly the boolean: some IdPs send the string "true", which this refuses rather than guesses at.
  return email !== undefined && ownValue(payload, 'email_verified') === true ? email : undefined;
}

/**
 * The name `user:` entries and static groups match, and audit records show: the configured
 * claim, else the verified e-mail, else `sub`. Never `preferred_username`, `nickname` or an
 * unverified e-mail by default: users edit those themselves, so one could call themself `alice`.
 */
function verifiedName(payload: JWTPayload, sub: string, rules: ApproverIdentityRules): string {
  const claim = rules.usernameClaim;
  if (claim === undefined) return verifiedEmail(payload) ?? sub;
  const value = claim === 'email' ? verifiedEmail(payload) : optionalName(payload, claim);
  if (value === undefined) {
    const what = claim === 'email' ? 'a verified "email" (email_verified: true)' : `claim "${claim}"`;
    throw new IdentityError(`approver token lacks ${what}, which identity.approvers.username_claim names`);
  }
  return value;
}

/** Every name the person may be known by, verified or not: used only to refuse self-approval. */
function aliasesOf(payload: JWTPayload, rules: ApproverIdentityRules): string[] {
  const email = optionalName(payload, 'email');
  const aliases = new Set<string>();
  for (const value of [optionalName(payload, 'preferred_username'), email, email?.split('@')[0], optionalName(payload, 'nickname')]) {
    if (value !== undefined && value !== '') aliases.add(value);
  }
  for (const claim of rules.actorClaims) {
    const value = optionalName(payload, claim);
    if (value !== undefined) aliases.add(value);
  }
  return [...aliases];
}

/**
 * Verified claims → the approver. The identity is `iss`+`sub`: the issuer is pinned to
 * `identity.approvers.issuer` by verification, so `sub` (assigned by the IdP) is the subject.
 */
export function approverIdentityFrom(payload: JWTPayload, rules: ApproverIdentityRules): ApproverIdentity {
  const { sub } = payload;
  if (!isName(sub)) throw new IdentityError('approver token claim "sub" is invalid');
  const name = verifiedName(payload, sub, rules);
  const authTime = typeof payload.auth_time === 'number' && Number.isFinite(payload.auth_time) ? payload.auth_time * 1000 : undefined;
  return {
    subject: sub,
    name,
    groups: groupsOf(payload, sub, name, rules),
    aliases: aliasesOf(payload, rules),
    trust: 'idp',
    ...(authTime !== undefined && { authTime }),
  };
}

/** The IdP's groups in `claims` plus the static groups naming the subject or the name, sorted. */
function groupsOf(claims: JWTPayload, sub: string, name: string, rules: ApproverIdentityRules): string[] {
  const groups = new Set(readGroups(claims, rules.groupsClaim));
  for (const [group, members] of Object.entries(rules.staticGroups)) {
    if (members.includes(sub) || members.includes(name)) groups.add(group);
  }
  return [...groups].sort();
}

/**
 * The same approver with the groups the IdP reports now (its userinfo answer), for a decision made
 * long after sign-in. The answer must be about the same `sub` (OpenID Connect Core 5.3.2). A group
 * claim the answer leaves out counts as no groups: a re-check that cannot see membership refuses.
 */
export function regroupedIdentity(identity: ApproverIdentity, claims: JWTPayload, rules: ApproverIdentityRules): ApproverIdentity {
  if (claims.sub !== identity.subject) throw new IdentityError('the identity provider answered for another user');
  return { ...identity, groups: groupsOf(claims, identity.subject, identity.name, rules) };
}
