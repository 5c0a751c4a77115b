import type { Clock } from '../../common/clock.js';
import type { ApproverIdentity } from '../../model/context.js';
import { IdentityError, UnavailableError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ApproverIdpConfig, Config } from '../config/types.js';
import type { ApproverResolver } from '../gate/types.js';
import { approverIdentityFrom, regroupedIdentity } from './idp-approver-identity.js';
import { APPROVER_TOKEN_HEADER } from './approver-token-header.js';
import { APPROVER_TOKEN_ALGORITHMS, createApproverTokenVerifier } from './approver-token-verifier.js';
import { bearerToken } from './bearer-token.js';
import { refuseCiJobClaims } from './ci-job-claims.js';

export interface IdpApproverResolverOptions {
  readonly config: ApproverIdpConfig;
  /** Static membership (group → names) added to the IdP's groups, matched on the subject or name. */
  readonly groups?: Config['groups'];
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Extra claims naming the same person elsewhere (e.g. `github_login`). Their values become
   * aliases, which only ever refuse self-approval; they never grant anything.
   */
  readonly actorClaims?: readonly string[];
  /** Allowed clock skew for `exp`/`nbf`/`iat`. Default 30 s. */
  readonly leewayMs?: number;
  /** Oldest acceptable `iat`, whatever `exp` says: one sign-in is not good forever. Default 12 h. */
  readonly maxTokenAgeMs?: number;
  /** At most one JWKS fetch within this window. Default 30 s. */
  readonly jwksCooldownMs?: number;
  /** Keys are fetched again once they are this old. Default 10 min. */
  readonly jwksMaxAgeMs?: number;
  /** Test seam; default global fetch. */
  readonly fetch?: typeof fetch;
}

export { APPROVER_TOKEN_ALGORITHMS, APPROVER_TOKEN_HEADER, bearerToken };

/**
 * Approvers prove who they are with an ID token from the org's identity provider, sent as
 * `authorization: Bearer <JWT>`. The token is verified strictly (approver-token-verifier.ts: issuer,
 * the approvers' audience, signature, lifetime), a CI job's token is refused (ci-job-claims.ts),
 * and its claims become the approver (idp-approver-identity.ts). There is no `jti` replay check: an
 * approver reuses one sign-in for several commands until it expires.
 */
export interface IdpApproverResolver extends ApproverResolver {
  /** `identity` with the groups in `claims` (the IdP's userinfo answer about the same `sub`). */
  regroup(identity: ApproverIdentity, claims: Record<string, unknown>): ApproverIdentity;
  close(): void;
}

export function createIdpApproverResolver(options: IdpApproverResolverOptions): IdpApproverResolver {
  const { config } = options;
  const logger = options.logger.child({ component: 'idp-approvers' });
  const closing = new AbortController();
  const verify = createApproverTokenVerifier({
    config,
    clock: options.clock,
    logger,
    leewayMs: options.leewayMs,
    maxTokenAgeMs: options.maxTokenAgeMs,
    jwksCooldownMs: options.jwksCooldownMs,
    jwksMaxAgeMs: options.jwksMaxAgeMs,
    fetch: options.fetch,
    signal: closing.signal,
  });
  const rules = {
    groupsClaim: config.groupsClaim,
    usernameClaim: config.usernameClaim,
    staticGroups: options.groups ?? {},
    actorClaims: options.actorClaims ?? config.actorClaims ?? [],
  };

  return {
    async resolve(metadata: Readonly<Record<string, string>>): Promise<ApproverIdentity> {
      if (closing.signal.aborted) throw new UnavailableError('approver verification is shutting down');
      const token = bearerToken(metadata);
      if (token === undefined) {
        throw new IdentityError(`no approver identity: present an ID token from ${config.issuer} as "authorization: Bearer <token>"`);
      }
      const payload = await verify(token);
      refuseCiJobClaims(payload);
      const identity = approverIdentityFrom(payload, rules);
      logger.debug({ subject: identity.subject, name: identity.name }, 'approver verified');
      return identity;
    },
    regroup(identity: ApproverIdentity, claims: Record<string, unknown>): ApproverIdentity {
      return regroupedIdentity(identity, claims, rules);
    },
    close(): void {
      closing.abort();
    },
  };
}
