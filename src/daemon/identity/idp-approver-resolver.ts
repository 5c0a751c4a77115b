import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../common/clock.js';
import type { ApproverIdentity } from '../../model/context.js';
import { IdentityError, UnavailableError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { ownValue } from '../../common/own-keys.js';
import type { ApproverIdpConfig, Config } from '../config/types.js';
import type { ApproverResolver } from '../gate/types.js';
import { APPROVER_TOKEN_HEADER } from './approver-token-header.js';
import { JwksCache } from './jwks-cache.js';
import { hasControlChars } from './text-checks.js';
import { verificationFailure } from './verification-failure.js';

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

export { APPROVER_TOKEN_HEADER };

/** Asymmetric only: with HS* anyone holding the published key could forge a token; `none` is no signature. */
export const APPROVER_TOKEN_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** ID tokens with many groups run to a few KB; far larger is not one and is not worth parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_NAME_LENGTH = 256;
const MAX_GROUPS = 256;
const BEARER_RE = /^bearer\s+(\S+)\s*$/i;

/** The bearer token in `authorization`, or undefined when none is presented. */
export function bearerToken(metadata: Readonly<Record<string, string>>): string | undefined {
  const header = metadata[APPROVER_TOKEN_HEADER];
  if (header === undefined || header.trim() === '') return undefined;
  const match = BEARER_RE.exec(header);
  if (match?.[1] === undefined) throw new IdentityError('malformed authorization header: expected "Bearer <IdP token>"');
  return match[1];
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_NAME_LENGTH && !hasControlChars(value);
}

/** An optional name-like claim: absent is fine, present but odd is refused (it may be an attempt to dodge a check). */
function optionalName(payload: JWTPayload, claim: string): string | undefined {
  const value = ownValue(payload, claim);
  if (value === undefined || value === null) return undefined;
  if (!isName(value)) throw new IdentityError(`approver token claim "${claim}" is invalid`);
  return value;
}

function readGroups(payload: JWTPayload, claim: string): string[] {
  const value = ownValue(payload, claim);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_GROUPS || !value.every(isName)) {
    throw new IdentityError(`approver token claim "${claim}" must be a list of group names`);
  }
  return value;
}

/**
 * Approvers prove who they are with an ID token from the org's identity provider, sent as
 * `authorization: Bearer <JWT>`. The token is verified strictly against `identity.approvers`:
 * exact issuer, audience, asymmetric algorithm, signature by a key from the IdP's JWKS, and
 * `exp`/`nbf`/`iat` with small leeway on the injected clock. Groups come from the configured claim.
 * There is no `jti` replay check: an approver reuses one sign-in for several commands until it expires.
 */
export function createIdpApproverResolver(options: IdpApproverResolverOptions): ApproverResolver & { close(): void } {
  const { config, clock } = options;
  const logger = options.logger.child({ component: 'idp-approvers' });
  const leewayMs = options.leewayMs ?? 30_000;
  const maxTokenAgeMs = options.maxTokenAgeMs ?? 12 * 3_600_000;
  const staticGroups = Object.entries(options.groups ?? {});
  const actorClaims = options.actorClaims ?? [];
  const closing = new AbortController();
  const jwks = new JwksCache({
    issuer: config.issuer,
    ...(config.jwksUri === undefined ? {} : { jwksUri: config.jwksUri }),
    clock,
    logger,
    fetch: options.fetch,
    cooldownMs: options.jwksCooldownMs,
    maxAgeMs: options.jwksMaxAgeMs,
    signal: closing.signal,
  });

  async function verify(token: string): Promise<JWTPayload> {
    if (token.length > MAX_TOKEN_LENGTH) throw new IdentityError('approver token too large');
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch (cause) {
      throw new IdentityError('malformed approver token', { cause });
    }
    // Checked before any key lookup so a bad algorithm never costs a JWKS fetch.
    if (typeof alg !== 'string' || !APPROVER_TOKEN_ALGORITHMS.includes(alg)) {
      throw new IdentityError('approver token algorithm not allowed');
    }
    try {
      const { payload } = await jwtVerify(token, jwks.getKey, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: [...APPROVER_TOKEN_ALGORITHMS],
        clockTolerance: leewayMs / 1000,
        // Also makes jose check `iat`, so a token from the future is refused.
        maxTokenAge: maxTokenAgeMs / 1000,
        currentDate: new Date(clock.now()),
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      return payload;
    } catch (err) {
      throw verificationFailure(err, 'approver token', 'approver token too old: sign in again');
    }
  }

  function identityFrom(payload: JWTPayload): ApproverIdentity {
    const { sub } = payload;
    if (!isName(sub)) throw new IdentityError('approver token claim "sub" is invalid');
    const username = optionalName(payload, 'preferred_username');
    const email = optionalName(payload, 'email');
    const name = username ?? email ?? sub;
    const aliases = new Set<string>();
    for (const value of [username, email, email?.split('@')[0], optionalName(payload, 'nickname')]) {
      if (value !== undefined && value !== '') aliases.add(value);
    }
    for (const claim of actorClaims) {
      const value = optionalName(payload, claim);
      if (value !== undefined) aliases.add(value);
    }
    const groups = new Set(readGroups(payload, config.groupsClaim));
    for (const [group, members] of staticGroups) {
      if (members.includes(sub) || members.includes(name)) groups.add(group);
    }
    return { subject: sub, name, groups: [...groups].sort(), aliases: [...aliases], trust: 'idp' };
  }

  return {
    async resolve(metadata: Readonly<Record<string, string>>): Promise<ApproverIdentity> {
      if (closing.signal.aborted) throw new UnavailableError('approver verification is shutting down');
      const token = bearerToken(metadata);
      if (token === undefined) {
        throw new IdentityError(`no approver identity: present an ID token from ${config.issuer} as "authorization: Bearer <token>"`);
      }
      const identity = identityFrom(await verify(token));
      logger.debug({ subject: identity.subject, name: identity.name }, 'approver verified');
      return identity;
    },
    close(): void {
      closing.abort();
    },
  };
}
