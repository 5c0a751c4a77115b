import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../common/clock.js';
import type { ClaimedContext, RequestContext } from '../../model/context.js';
import { IdentityError, UnavailableError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { CiIssuerConfig } from '../config/types.js';
import type { ContextResolver } from '../gate/ports.js';
import type { StateStore } from '../state/store.js';
import { mapClaims } from './claim-mappings.js';
import { assertClaimsMatch } from './compare-context.js';
import { JwksCache } from './jwks-cache.js';
import { hasControlChars } from './text-checks.js';
import { verificationFailure } from './verification-failure.js';

export interface OidcContextResolverOptions {
  readonly issuers: readonly CiIssuerConfig[];
  /** `jti` replay cache; durable, so a restart does not reopen the window. */
  readonly store: Pick<StateStore, 'rememberTokenId'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** At most one JWKS fetch per issuer within this window. Default 30 s. */
  readonly jwksCooldownMs?: number;
  /** Keys are fetched again once they are this old. Default 10 min. */
  readonly jwksMaxAgeMs?: number;
  /** Test seam; default global fetch. */
  readonly fetch?: typeof fetch;
}

/** CI tokens are about 1-2 KB; anything far larger is not one, and is not worth parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_JTI_LENGTH = 256;
/** Symmetric algorithms would let anyone holding the public key forge tokens; `none` is no signature. */
const FORBIDDEN_ALG_RE = /^(none|HS\d+)$/i;

interface Issuer {
  readonly config: CiIssuerConfig;
  readonly algorithms: readonly string[];
  readonly jwks: JwksCache;
}

function readJti(payload: JWTPayload): string {
  const { jti } = payload;
  if (typeof jti !== 'string' || jti === '') throw new IdentityError('token lacks required claim "jti"');
  if (jti.length > MAX_JTI_LENGTH || hasControlChars(jti)) throw new IdentityError('token claim "jti" is invalid');
  return jti;
}

/**
 * Verifies CI OIDC tokens and derives the request context from their claims alone. The issuer
 * config is chosen by the token's unverified `iss`, then everything is verified strictly against
 * that config: exact issuer, audience, allowed asymmetric algorithms, signature by a key in the
 * issuer's JWKS, `exp`/`nbf`/`iat` with leeway on the injected clock, maximum age, and a `jti` that
 * has not been seen before. Client-claimed fields are only compared afterwards.
 */
export function createOidcContextResolver(options: OidcContextResolverOptions): ContextResolver & { close(): void } {
  const { store, clock } = options;
  const logger = options.logger.child({ component: 'oidc-identity' });
  const closing = new AbortController();
  const issuers = new Map<string, Issuer>();
  for (const config of options.issuers) {
    issuers.set(config.issuer, {
      config,
      algorithms: config.algorithms.filter((alg) => !FORBIDDEN_ALG_RE.test(alg)),
      jwks: new JwksCache({
        issuer: config.issuer,
        ...(config.jwksUri === undefined ? {} : { jwksUri: config.jwksUri }),
        clock,
        logger,
        fetch: options.fetch,
        cooldownMs: options.jwksCooldownMs,
        maxAgeMs: options.jwksMaxAgeMs,
        signal: closing.signal,
      }),
    });
  }

  async function verify(idToken: string): Promise<{ issuer: Issuer; payload: JWTPayload }> {
    if (idToken.length > MAX_TOKEN_LENGTH) throw new IdentityError('token too large');
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(idToken).alg;
      iss = decodeJwt(idToken).iss;
    } catch (cause) {
      throw new IdentityError('malformed token', { cause });
    }
    const issuer = typeof iss === 'string' ? issuers.get(iss) : undefined;
    if (issuer === undefined) throw new IdentityError('token issuer not trusted');
    // Checked before any key lookup so a bad algorithm never costs a JWKS fetch.
    if (typeof alg !== 'string' || !issuer.algorithms.includes(alg)) {
      throw new IdentityError('token algorithm not allowed');
    }
    try {
      const { payload } = await jwtVerify(idToken, issuer.jwks.getKey, {
        issuer: issuer.config.issuer,
        audience: issuer.config.audience,
        algorithms: [...issuer.algorithms],
        clockTolerance: issuer.config.leewayMs / 1000,
        maxTokenAge: issuer.config.maxTokenAgeMs / 1000,
        currentDate: new Date(clock.now()),
        requiredClaims: ['exp', 'iat', 'jti'],
      });
      return { issuer, payload };
    } catch (err) {
      throw verificationFailure(err, 'token');
    }
  }

  return {
    async resolve(idToken: string | undefined, claimed: ClaimedContext): Promise<RequestContext> {
      if (closing.signal.aborted) throw new UnavailableError('identity verification is shutting down');
      if (idToken === undefined || idToken === '') throw new IdentityError('a CI identity token is required');
      const { issuer, payload } = await verify(idToken);
      const jti = readJti(payload);
      const context = mapClaims(issuer.config, payload);
      // The token stays acceptable until exp + leeway, so it must stay remembered that long.
      const rememberUntil = (payload.exp ?? 0) * 1000 + issuer.config.leewayMs;
      let first: boolean;
      try {
        first = await store.rememberTokenId(issuer.config.issuer, jti, rememberUntil, clock.now());
      } catch (cause) {
        throw new UnavailableError('cannot record the token id', { cause });
      }
      if (!first) throw new IdentityError('token replayed');
      assertClaimsMatch(context, claimed);
      logger.debug({ issuer: context.issuer, repository: context.repository, ref: context.ref }, 'token verified');
      return context;
    },
    close(): void {
      closing.abort();
    },
  };
}

export { createContextResolver } from './context-resolver.js';
