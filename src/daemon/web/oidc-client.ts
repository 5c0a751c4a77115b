import { createHash } from 'node:crypto';
import { IdentityError, UnavailableError } from '../../common/errors.js';
import { boundedFetch, identityUrl } from '../identity/bounded-fetch.js';

export interface OidcClientOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly fetch: typeof fetch;
  /** Per HTTP call to the IdP. Default 5 s. */
  readonly timeoutMs?: number;
}

interface Endpoints {
  readonly authorization: string;
  readonly token: string;
  /** Absent when the IdP publishes none. */
  readonly userinfo?: string;
}

/** What the token endpoint returned: the (still unverified) ID token, and the access token for userinfo. */
export interface RedeemedCode {
  readonly idToken: string;
  readonly accessToken?: string;
}

const MAX_RESPONSE_BYTES = 256 * 1024;

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function endpointUrl(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new UnavailableError(`IdP discovery document lacks ${name}`);
  return identityUrl(value, `IdP ${name}`).toString();
}

/**
 * The relying-party half of the OIDC authorization-code flow with PKCE. It only builds the
 * authorization URL and redeems codes; the ID token it gets back is verified by the caller with the
 * same checks as every approver token.
 */
export class OidcClient {
  readonly #options: OidcClientOptions;
  #endpoints: Promise<Endpoints> | undefined;

  constructor(options: OidcClientOptions) {
    this.#options = options;
  }

  async #call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }, what: string): Promise<unknown> {
    // Capped, https-only, no redirect to another origin (and none at all for the token POST).
    const res = await boundedFetch(url, {
      ...init,
      fetch: this.#options.fetch,
      maxBytes: MAX_RESPONSE_BYTES,
      what: `IdP ${what}`,
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5000),
    });
    const { text } = res;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new UnavailableError(`IdP ${what} answered HTTP ${String(res.status)} without JSON`, { cause });
    }
    if (!res.ok) {
      const error = typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string' ? body.error : 'error';
      // A refused code is the user's problem (reused, expired); anything else is the IdP's.
      if (res.status === 400) throw new IdentityError(`IdP ${what} refused: ${error.slice(0, 100)}`);
      throw new UnavailableError(`IdP ${what} answered HTTP ${String(res.status)}`);
    }
    return body;
  }

  #discover(): Promise<Endpoints> {
    this.#endpoints ??= (async () => {
      const url = `${this.#options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const doc = (await this.#call(url, {}, 'discovery')) as Record<string, unknown>;
      if (doc.issuer !== this.#options.issuer) throw new UnavailableError('IdP discovery document names another issuer');
      return {
        authorization: endpointUrl(doc.authorization_endpoint, 'authorization_endpoint'),
        token: endpointUrl(doc.token_endpoint, 'token_endpoint'),
        ...(doc.userinfo_endpoint !== undefined && { userinfo: endpointUrl(doc.userinfo_endpoint, 'userinfo_endpoint') }),
      };
    })();
    // A failed discovery is retried on the next sign-in rather than cached.
    this.#endpoints.catch(() => {
      this.#endpoints = undefined;
    });
    return this.#endpoints;
  }

  /** `fresh`: a step-up, so the IdP must sign the user in again whatever its own session says (`prompt=login`, `max_age=0`). */
  async authorizationUrl(params: { state: string; nonce: string; verifier: string; fresh?: boolean }): Promise<string> {
    const { authorization } = await this.#discover();
    const url = new URL(authorization);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.#options.clientId);
    url.searchParams.set('redirect_uri', this.#options.redirectUri);
    url.searchParams.set('scope', this.#options.scopes.join(' '));
    url.searchParams.set('state', params.state);
    url.searchParams.set('nonce', params.nonce);
    url.searchParams.set('code_challenge', pkceChallenge(params.verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    if (params.fresh === true) {
      url.searchParams.set('prompt', 'login');
      url.searchParams.set('max_age', '0');
    }
    return url.toString();
  }

  /** Redeems an authorization code; resolves with the (still unverified) ID token and the access token. */
  async redeem(code: string, verifier: string): Promise<RedeemedCode> {
    const { token } = await this.#discover();
    const body = (await this.#call(
      token,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: this.#options.redirectUri,
          code_verifier: verifier,
          client_id: this.#options.clientId,
          client_secret: this.#options.clientSecret,
        }).toString(),
      },
      'token endpoint',
    )) as Record<string, unknown>;
    if (typeof body.id_token !== 'string') throw new IdentityError('IdP token endpoint returned no ID token');
    const accessToken = typeof body.access_token === 'string' && body.access_token !== '' ? body.access_token : undefined;
    return { idToken: body.id_token, ...(accessToken !== undefined && { accessToken }) };
  }

  /** Whether the IdP publishes a userinfo endpoint (after discovery). */
  async hasUserinfo(): Promise<boolean> {
    return (await this.#discover()).userinfo !== undefined;
  }

  /**
   * The approver's current claims from the IdP's userinfo endpoint, asked with the access token of
   * their sign-in. A refused token (expired, revoked, the user disabled) is an IdentityError: the
   * approver must sign in again. The caller checks `sub` against the session's.
   */
  async userinfo(accessToken: string): Promise<Record<string, unknown>> {
    const { userinfo } = await this.#discover();
    if (userinfo === undefined) throw new UnavailableError('IdP publishes no userinfo endpoint');
    const res = await boundedFetch(userinfo, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      fetch: this.#options.fetch,
      maxBytes: MAX_RESPONSE_BYTES,
      what: 'IdP userinfo',
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5000),
    });
    if (res.status === 401 || res.status === 403) throw new IdentityError('the identity provider no longer accepts this sign-in');
    if (!res.ok) throw new UnavailableError(`IdP userinfo answered HTTP ${String(res.status)}`);
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch (cause) {
      // A signed (JWT) userinfo response is not asked for; anything but JSON is the IdP's fault.
      throw new UnavailableError('IdP userinfo answered without JSON', { cause });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UnavailableError('IdP userinfo answered no claims object');
    return body as Record<string, unknown>;
  }
}
