import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../common/clock.js';
import { IdentityError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ApproverIdpConfig } from '../config/types.js';
import { JwksCache } from './jwks-cache.js';
import { verificationFailure } from './verification-failure.js';

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

export interface ApproverTokenVerifierOptions {
  readonly config: ApproverIdpConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Allowed clock skew for `exp`/`nbf`/`iat`. Default 30 s. */
  readonly leewayMs?: number | undefined;
  /** Oldest acceptable `iat`, whatever `exp` says. Default 12 h. */
  readonly maxTokenAgeMs?: number | undefined;
  readonly jwksCooldownMs?: number | undefined;
  readonly jwksMaxAgeMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** Aborted when the owning resolver closes. */
  readonly signal: AbortSignal;
}

/** The header's algorithm, checked before any key lookup so a bad algorithm never costs a JWKS fetch. */
function checkAlgorithm(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) throw new IdentityError('approver token too large');
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch (cause) {
    throw new IdentityError('malformed approver token', { cause });
  }
  if (typeof alg !== 'string' || !APPROVER_TOKEN_ALGORITHMS.includes(alg)) {
    throw new IdentityError('approver token algorithm not allowed');
  }
}

/**
 * Strict verification against `identity.approvers`: exact issuer, audience, asymmetric algorithm,
 * signature by a key from the IdP's JWKS, and `exp`/`nbf`/`iat` with small leeway on the injected
 * clock. Resolves with the verified claims; every failure is an IdentityError with a fixed reason.
 */
export function createApproverTokenVerifier(options: ApproverTokenVerifierOptions): (token: string) => Promise<JWTPayload> {
  const { config, clock } = options;
  const leewayMs = options.leewayMs ?? 30_000;
  const maxTokenAgeMs = options.maxTokenAgeMs ?? 12 * 3_600_000;
  const jwks = new JwksCache({
    issuer: config.issuer,
    ...(config.jwksUri === undefined ? {} : { jwksUri: config.jwksUri }),
    clock,
    logger: options.logger,
    fetch: options.fetch,
    cooldownMs: options.jwksCooldownMs,
    maxAgeMs: options.jwksMaxAgeMs,
    signal: options.signal,
  });
  return async (token) => {
    checkAlgorithm(token);
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
  };
}
