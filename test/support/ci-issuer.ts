/**
 * A real OIDC-ish CI token issuer for tests: HTTP on 127.0.0.1, discovery document, a JWKS
 * endpoint that counts its hits, RS256 and ES256 keys made with jose, helpers that mint GitHub- and
 * GitLab-shaped tokens, and a stand-in for the GitHub Actions token-request endpoint.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { systemClock, type Clock } from '../../src/common/clock.js';
import type { CiIssuerConfig } from '../../src/daemon/config/types.js';

export interface IssuerKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface IssueOptions {
  /** Header `kid`; defaults to the signing key's kid. */
  readonly kid?: string;
  /** `RS256` (default), `ES256`, `HS256` (needs a Uint8Array `key`) or `none` (unsigned). */
  readonly alg?: string;
  /** Signing key; defaults to the issuer's key for `alg`. A key not in the JWKS makes a forged token. */
  readonly key?: CryptoKey | Uint8Array;
}

export interface CiIssuer {
  /** The issuer URL, exactly as it appears in `iss` and in the discovery document. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly rsa: IssuerKey;
  readonly ec: IssuerKey;
  /** Requests served by the JWKS endpoint so far. */
  readonly jwksHits: number;
  readonly discoveryHits: number;
  /** Signs `claims` as given (no defaults added). */
  issue(claims: JWTPayload, options?: IssueOptions): Promise<string>;
  /** Standard claims (iss, aud, iat, nbf, exp, jti) from the issuer's clock, plus `extra`. */
  baseClaims(audience: string, extra?: ClaimOverrides): JWTPayload;
  /** GitHub Actions-shaped claims for acme/api on refs/heads/main, environment production. */
  githubClaims(audience: string, overrides?: ClaimOverrides): JWTPayload;
  /** GitLab-shaped claims for acme/api on branch main, environment production. */
  gitlabClaims(audience: string, overrides?: ClaimOverrides): JWTPayload;
  /** Makes a fresh key and publishes it in the JWKS (a key rotation). */
  addKey(alg?: 'RS256' | 'ES256'): Promise<IssuerKey>;
  /** A key that is not published anywhere. */
  strayKey(alg?: 'RS256' | 'ES256'): Promise<IssuerKey>;
  /** Stand-in for GitHub's `ACTIONS_ID_TOKEN_REQUEST_URL` / `_TOKEN`. */
  readonly actions: {
    readonly requestUrl: string;
    readonly requestToken: string;
    /** Audiences requested so far, in order. */
    readonly audiences: readonly string[];
    /** Claims (besides iss/aud/iat/nbf/exp/jti) put into the tokens it hands out. */
    claims: ClaimOverrides;
  };
  close(): Promise<void>;
}

/** Claim overrides; a key set to `undefined` removes that claim from the token. */
export type ClaimOverrides = Readonly<Record<string, unknown>>;

export const SHA_MAIN = 'a'.repeat(40);

export async function makeKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startCiIssuer(options: { clock?: Clock; path?: string } = {}): Promise<CiIssuer> {
  const clock = options.clock ?? systemClock;
  const path = options.path ?? '';
  const keys: IssuerKey[] = [await makeKey('RS256'), await makeKey('ES256')];
  const [rsa, ec] = keys as [IssuerKey, IssuerKey];
  const requestToken = `req-${randomUUID()}`;
  const audiences: string[] = [];
  let jwksHits = 0;
  let discoveryHits = 0;
  let issuerUrl = '';

  async function issue(claims: JWTPayload, opts: IssueOptions = {}): Promise<string> {
    const alg = opts.alg ?? 'RS256';
    if (alg === 'none') {
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', ...(opts.kid ? { kid: opts.kid } : {}) }));
      return `${header}.${base64url.encode(JSON.stringify(claims))}.`;
    }
    const own = alg === 'ES256' ? ec : rsa;
    const key = opts.key ?? own.privateKey;
    const kid = opts.kid ?? (opts.key ? undefined : own.kid);
    return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) }).sign(key);
  }

  function baseClaims(audience: string, extra: ClaimOverrides = {}): JWTPayload {
    const now = Math.floor(clock.now() / 1000);
    const merged: Record<string, unknown> = { iss: issuerUrl, aud: audience, iat: now, nbf: now, exp: now + 300, jti: randomUUID(), ...extra };
    return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined));
  }

  function githubClaims(audience: string, overrides: ClaimOverrides = {}): JWTPayload {
    return baseClaims(audience, {
      sub: 'repo:acme/api:environment:production',
      repository: 'acme/api',
      repository_id: '42',
      repository_owner: 'acme',
      repository_owner_id: '7',
      ref: 'refs/heads/main',
      ref_type: 'branch',
      sha: SHA_MAIN,
      actor: 'alice',
      actor_id: '1001',
      environment: 'production',
      workflow_ref: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
      job_workflow_ref: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
      event_name: 'push',
      runner_environment: 'self-hosted',
      run_id: '9001',
      run_attempt: '1',
      ...overrides,
    });
  }

  function gitlabClaims(audience: string, overrides: ClaimOverrides = {}): JWTPayload {
    return baseClaims(audience, {
      sub: 'project_path:acme/api:ref_type:branch:ref:main',
      project_path: 'acme/api',
      project_id: '42',
      namespace_path: 'acme',
      namespace_id: '7',
      ref: 'main',
      ref_type: 'branch',
      ref_path: 'refs/heads/main',
      sha: SHA_MAIN,
      user_login: 'alice',
      user_id: '1001',
      environment: 'production',
      pipeline_source: 'push',
      pipeline_id: '555',
      ci_config_ref_uri: 'gitlab.example/acme/api//.gitlab-ci.yml@refs/heads/main',
      runner_environment: 'self-hosted',
      ...overrides,
    });
  }

  const actions = {
    requestUrl: '',
    requestToken,
    audiences: audiences as readonly string[],
    claims: {} as ClaimOverrides,
  };

  async function route(req: IncomingMessage): Promise<[status: number, body: unknown]> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET') return [405, { error: 'method not allowed' }];
    if (url.pathname === `${path}/.well-known/openid-configuration`) {
      discoveryHits++;
      return [
        200,
        {
          issuer: issuerUrl,
          jwks_uri: `${issuerUrl}/.well-known/jwks`,
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
        },
      ];
    }
    if (url.pathname === `${path}/.well-known/jwks`) {
      jwksHits++;
      return [200, { keys: keys.map((k) => k.publicJwk) }];
    }
    if (url.pathname === '/_apis/actions/token') {
      // GitHub's runner sends "Bearer"; the docs show "bearer". Accept both, nothing else.
      const auth = req.headers.authorization;
      if (auth !== `bearer ${requestToken}` && auth !== `Bearer ${requestToken}`) return [401, { message: 'bad request token' }];
      const audience = url.searchParams.get('audience');
      if (audience === null || audience === '') return [400, { message: 'audience required' }];
      audiences.push(audience);
      return [200, { count: 1, value: await issue(githubClaims(audience, actions.claims)) }];
    }
    return [404, { error: 'not found' }];
  }

  const server = createServer((req, res) => {
    route(req).then(
      ([status, body]) => {
        send(res, status, body);
      },
      (err: unknown) => {
        send(res, 500, { error: String(err) });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  issuerUrl = `http://127.0.0.1:${port}${path}`;
  actions.requestUrl = `http://127.0.0.1:${port}/_apis/actions/token?api-version=2.0`;

  return {
    issuer: issuerUrl,
    jwksUri: `${issuerUrl}/.well-known/jwks`,
    rsa,
    ec,
    get jwksHits() {
      return jwksHits;
    },
    get discoveryHits() {
      return discoveryHits;
    },
    issue,
    baseClaims,
    githubClaims,
    gitlabClaims,
    async addKey(alg: 'RS256' | 'ES256' = 'RS256') {
      const key = await makeKey(alg);
      keys.push(key);
      return key;
    },
    strayKey: makeKey,
    actions,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}

/** An issuer config for `issuer` as the config loader would produce it (GitHub kind, audience `jitgate`). */
export function issuerConfigFor(issuer: Pick<CiIssuer, 'issuer'>, overrides: Partial<CiIssuerConfig> = {}): CiIssuerConfig {
  return {
    issuer: issuer.issuer,
    audience: 'jitgate',
    kind: 'github',
    algorithms: ['RS256', 'ES256'],
    leewayMs: 30_000,
    maxTokenAgeMs: 600_000,
    claims: {},
    ...overrides,
  };
}
