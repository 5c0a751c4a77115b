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
      return { authorization: endpointUrl(doc.authorization_endpoint, 'authorization_endpoint'), token: endpointUrl(doc.token_endpoint, 'token_endpoint') };
    })();
    // A failed discovery is retried on the next sign-in rather than cached.
    this.#endpoints.catch(() => {
      this.#endpoints = undefined;
    });
    return this.#endpoints;
  }

  async authorizationUrl(params: { state: string; nonce: string; verifier: string }): Promise<string> {
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
    return url.toString();
  }

  /** Redeems an authorization code; resolves with the (still unverified) ID token. */
  async redeem(code: string, verifier: string): Promise<string> {
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
    return body.id_token;
  }
}
