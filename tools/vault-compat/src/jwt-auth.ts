import { createLocalJWKSet, createRemoteJWKSet, importSPKI, jwtVerify, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { badRequest, errorMessage, noRoute, notFound, unsupportedOperation } from './api-error.js';
import { childKeys, listReply, loginReply, noContent, ok, type Core, type Engine, type EngineRequest, type Reply } from './engine.js';
import { durationSeconds, optionalString, stringList } from './input.js';

interface JwtConfig {
  readonly jwksUrl: string;
  readonly pubkeys: readonly string[];
  readonly boundIssuer: string;
  readonly defaultRole: string;
  readonly keySet: JWTVerifyGetKey | null;
}

interface JwtRole {
  readonly boundAudiences: readonly string[];
  readonly boundClaims: Readonly<Record<string, unknown>>;
  readonly boundSubject: string;
  readonly userClaim: string;
  readonly policies: readonly string[];
  readonly ttlS: number;
  readonly maxTtlS: number;
  readonly clockSkewLeewayS: number;
}

/** The JWT auth method: tokens verified against a JWKS URL or static public keys. */
export class JwtAuthEngine implements Engine {
  readonly type = 'jwt';
  readonly #core: Core;
  #config: JwtConfig | null = null;
  readonly #roles = new Map<string, JwtRole>();

  constructor(core: Core) {
    this.#core = core;
  }

  unauthenticated(path: string): boolean {
    return path === 'login';
  }

  creates(path: string): boolean {
    const m = /^role\/([^/]+)$/.exec(path);
    if (m?.[1] !== undefined) return !this.#roles.has(m[1]);
    return path === 'config' && this.#config === null;
  }

  async handle(req: EngineRequest): Promise<Reply> {
    const { body } = req;
    if (req.path === 'login') {
      if (req.method !== 'POST') throw unsupportedOperation();
      return this.#login(req.mount, body);
    }
    if (req.path === 'config') {
      if (req.method === 'GET') {
        if (!this.#config) throw notFound();
        return ok({ jwks_url: this.#config.jwksUrl, jwt_validation_pubkeys: [...this.#config.pubkeys], bound_issuer: this.#config.boundIssuer, default_role: this.#config.defaultRole });
      }
      if (req.method !== 'POST') throw unsupportedOperation();
      return this.#writeConfig(body);
    }
    if (req.path === 'role' || req.path === 'role/') {
      if (req.method !== 'LIST') throw unsupportedOperation();
      return listReply(childKeys(this.#roles.keys(), ''));
    }
    const m = /^role\/([^/]+)$/.exec(req.path);
    const name = m?.[1];
    if (name === undefined) throw noRoute(`${req.mount}${req.path}`);
    if (req.method === 'DELETE') {
      this.#roles.delete(name);
      return noContent();
    }
    if (req.method === 'GET') {
      const r = this.#roles.get(name);
      if (!r) throw notFound();
      return ok({ role_type: 'jwt', bound_audiences: [...r.boundAudiences], bound_claims: r.boundClaims, bound_subject: r.boundSubject, user_claim: r.userClaim, token_policies: [...r.policies], token_ttl: r.ttlS, token_max_ttl: r.maxTtlS });
    }
    if (req.method !== 'POST') throw unsupportedOperation();
    const userClaim = optionalString(body.user_claim, 'user_claim') ?? '';
    if (userClaim === '') throw badRequest('a user claim must be defined on the role');
    const roleType = optionalString(body.role_type, 'role_type') ?? 'jwt';
    if (roleType !== 'jwt') throw badRequest(`invalid 'role_type': ${roleType} (this server supports jwt roles only)`);
    const boundClaims = body.bound_claims ?? {};
    if (typeof boundClaims !== 'object' || Array.isArray(boundClaims)) throw badRequest('invalid value for bound_claims');
    this.#roles.set(name, {
      boundAudiences: stringList(body.bound_audiences, 'bound_audiences'),
      boundClaims: boundClaims as Record<string, unknown>,
      boundSubject: optionalString(body.bound_subject, 'bound_subject') ?? '',
      userClaim,
      policies: stringList(body.token_policies ?? body.policies, 'token_policies'),
      ttlS: durationSeconds(body.token_ttl, 'token_ttl'),
      maxTtlS: durationSeconds(body.token_max_ttl, 'token_max_ttl'),
      clockSkewLeewayS: body.clock_skew_leeway === undefined ? 60 : durationSeconds(body.clock_skew_leeway, 'clock_skew_leeway'),
    });
    return noContent();
  }

  async #writeConfig(body: Readonly<Record<string, unknown>>): Promise<Reply> {
    const jwksUrl = optionalString(body.jwks_url, 'jwks_url') ?? '';
    const pubkeys = stringList(body.jwt_validation_pubkeys, 'jwt_validation_pubkeys');
    if ((jwksUrl === '') === (pubkeys.length === 0)) throw badRequest('exactly one of \'jwt_validation_pubkeys\', \'jwks_url\' or \'oidc_discovery_url\' must be set');
    let keySet: JWTVerifyGetKey;
    if (jwksUrl !== '') {
      try {
        keySet = createRemoteJWKSet(new URL(jwksUrl));
      } catch (err) {
        throw badRequest(`error checking jwks URL: ${errorMessage(err)}`, { cause: err });
      }
    } else {
      // Static PEM keys are turned into a local key set; every supported alg is tried per key.
      const keys = [];
      for (const pem of pubkeys) {
        for (const alg of ['RS256', 'ES256', 'EdDSA']) {
          try {
            const key = await importSPKI(pem, alg, { extractable: true });
            const { exportJWK } = await import('jose');
            keys.push({ ...(await exportJWK(key)), alg });
          } catch {
            // not a key for this algorithm
          }
        }
      }
      if (keys.length === 0) throw badRequest('error parsing public key: no usable keys in jwt_validation_pubkeys');
      const local = createLocalJWKSet({ keys });
      keySet = (header, token) => {
        return local({ ...header, kid: undefined } as unknown as typeof header, token);
      };
    }
    this.#config = {
      jwksUrl,
      pubkeys,
      boundIssuer: optionalString(body.bound_issuer, 'bound_issuer') ?? '',
      defaultRole: optionalString(body.default_role, 'default_role') ?? '',
      keySet,
    };
    return noContent();
  }

  async #login(mount: string, body: Readonly<Record<string, unknown>>): Promise<Reply> {
    const config = this.#config;
    if (!config?.keySet) throw badRequest('could not load configuration');
    const roleName = optionalString(body.role, 'role') ?? config.defaultRole;
    if (roleName === '') throw badRequest('missing role');
    const role = this.#roles.get(roleName);
    if (!role) throw badRequest(`role ${JSON.stringify(roleName)} could not be found`);
    const jwt = optionalString(body.jwt, 'jwt') ?? '';
    if (jwt === '') throw badRequest('missing token');
    let payload: JWTPayload;
    try {
      const header = decodeProtectedHeader(jwt);
      if (header.alg === undefined || header.alg === 'none' || header.alg.startsWith('HS')) throw new Error(`unsupported alg ${String(header.alg)}`);
      ({ payload } = await jwtVerify(jwt, config.keySet, {
        currentDate: new Date(this.#core.clock.now()),
        clockTolerance: role.clockSkewLeewayS,
        ...(config.boundIssuer ? { issuer: config.boundIssuer } : {}),
      }));
    } catch (err) {
      throw badRequest(`error validating token: ${errorMessage(err)}`, { cause: err });
    }
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (role.boundAudiences.length > 0) {
      if (!aud.some((a) => role.boundAudiences.includes(a))) throw badRequest('error validating claims: aud claim does not match any bound audience');
    } else if (aud.length > 0) {
      throw badRequest('error validating claims: audience claim found in JWT but no audiences bound to the role');
    }
    if (role.boundSubject !== '' && payload.sub !== role.boundSubject) throw badRequest('error validating claims: sub claim does not match bound subject');
    for (const [claim, expected] of Object.entries(role.boundClaims)) {
      const actual = (payload as Record<string, unknown>)[claim];
      const allowed = Array.isArray(expected) ? expected : [expected];
      const values = Array.isArray(actual) ? actual : [actual];
      if (!values.some((v) => allowed.some((a) => a === v))) throw badRequest(`error validating claims: claim ${JSON.stringify(claim)} does not match any associated bound claim values`);
    }
    const user = (payload as Record<string, unknown>)[role.userClaim];
    if (typeof user !== 'string' && typeof user !== 'number') throw badRequest(`claim ${JSON.stringify(role.userClaim)} not found in token`);
    return loginReply(this.#core, {
      policies: role.policies,
      ttlS: role.ttlS,
      maxTtlS: role.maxTtlS,
      numUses: 0,
      meta: { role: roleName },
      displayName: `${mount.replace(/^auth\//, '').replace(/\/$/, '')}-${String(user)}`,
      path: `${mount}login`,
    });
  }
}
