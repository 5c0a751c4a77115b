/**
 * A real OpenID Provider for tests: `oidc-provider` on 127.0.0.1 with its development login and
 * consent pages, a confidential test client, and users with groups. `login(user)` signs a user in
 * headlessly by driving the real authorization-code flow (PKCE) with fetch and a small cookie jar,
 * then redeems the code at the token endpoint and returns the ID token the provider signed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';

export interface IdpUser {
  /** The account id (`sub`), and what is typed into the development login form. */
  readonly sub: string;
  readonly preferredUsername?: string;
  readonly email?: string;
  /** `email_verified` in the tokens; default true. */
  readonly emailVerified?: boolean;
  readonly groups?: readonly string[];
  /** Any further claims, released under the `profile` scope (e.g. `github_login`). */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface TestIdp {
  /** Exactly as the provider puts it in `iss` and in its discovery document. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** The client whose id is the ID tokens' audience. */
  readonly clientId: string;
  /** A second registered client, for tokens with another audience. */
  readonly otherClientId: string;
  /** Signs `user` in through the login and consent pages; resolves with the provider-signed ID token. */
  login(user: string, options?: { clientId?: string }): Promise<string>;
  /** Changes a user's groups at the IdP from now on (what a directory admin does). */
  setGroups(sub: string, groups: readonly string[]): void;
  /** Removes a user: the IdP refuses their tokens at userinfo from now on. */
  removeUser(sub: string): void;
  close(): Promise<void>;
}

/** The subset of oidc-provider's Provider these tests use (the package ships no type declarations). */
interface OidcProvider {
  callback(): (req: unknown, res: unknown) => void;
}
type ProviderCtor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

const REDIRECT_URI = 'http://127.0.0.1/callback';
const CLIENT_SECRET = 'test-client-secret-not-a-real-one';

async function loadProvider(): Promise<ProviderCtor> {
  // A non-literal specifier: the package has no type declarations, so it is typed here instead.
  const specifier = 'oidc-provider';
  const mod = (await import(specifier)) as { default: ProviderCtor };
  return mod.default;
}

function claimsOf(user: IdpUser): Record<string, unknown> {
  return {
    sub: user.sub,
    ...(user.preferredUsername === undefined ? {} : { preferred_username: user.preferredUsername }),
    ...(user.email === undefined ? {} : { email: user.email, email_verified: user.emailVerified ?? true }),
    ...(user.groups === undefined ? {} : { groups: [...user.groups] }),
    ...user.extra,
  };
}

/** Cookies by name; paths are ignored, which only means sending a few more cookies than a browser would. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export async function startIdp(options: { users: readonly IdpUser[]; idTokenTtlSeconds?: number; accessTokenTtlSeconds?: number }): Promise<TestIdp> {
  const Provider = await loadProvider();
  const users = new Map(options.users.map((u) => [u.sub, u]));
  const extraClaims = [...new Set(options.users.flatMap((u) => Object.keys(u.extra ?? {})))];
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(privateKey)), kid: 'idp-rs256', alg: 'RS256', use: 'sig' };

  // The issuer embeds the port, so listen first and mount the provider once it is known.
  const mounted: { handler?: (req: unknown, res: unknown) => void } = {};
  const server: Server = createServer((req, res) => {
    if (mounted.handler === undefined) {
      res.writeHead(503).end();
      return;
    }
    mounted.handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'jitgate';
  const otherClientId = 'another-app';
  const client = (id: string) => ({
    client_id: id,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  });

  const provider = new Provider(issuer, {
    clients: [client(clientId), client(otherClientId)],
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: true } },
    // Scope-granted claims go into the ID token itself, as most enterprise IdPs do.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'nickname', ...extraClaims],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    scopes: ['openid', 'profile', 'email', 'groups'],
    // Every TTL given, so the provider does not print a notice per default it falls back on.
    ttl: { IdToken: options.idTokenTtlSeconds ?? 3600, AccessToken: options.accessTokenTtlSeconds ?? 600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: (_ctx: unknown, id: string) => {
      const user = users.get(id);
      if (user === undefined) return undefined;
      return { accountId: id, claims: () => claimsOf(user) };
    },
  });
  mounted.handler = provider.callback();

  async function login(user: string, loginOptions: { clientId?: string } = {}): Promise<string> {
    const id = loginOptions.clientId ?? clientId;
    const jar = new CookieJar();
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(8).toString('hex');
    const auth = new URL('/auth', issuer);
    auth.search = new URLSearchParams({
      client_id: id,
      response_type: 'code',
      scope: 'openid profile email groups',
      redirect_uri: REDIRECT_URI,
      state,
      nonce: randomBytes(8).toString('hex'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();

    const go = async (url: string, init: RequestInit = {}): Promise<Response> => {
      const res = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: { ...(init.headers as Record<string, string> | undefined), cookie: jar.header() },
      });
      jar.store(res);
      return res;
    };
    const form = (body: Record<string, string>): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });

    // Follow redirects by hand, answering the login and consent prompts, until the callback.
    let next: { url: string; init?: RequestInit } = { url: auth.toString() };
    for (let hop = 0; hop < 20; hop++) {
      const res = await go(next.url, next.init);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location !== null) {
        await res.body?.cancel();
        const target = new URL(location, next.url);
        if (target.toString().startsWith(REDIRECT_URI)) {
          const error = target.searchParams.get('error');
          if (error !== null) throw new Error(`IdP login failed: ${error}: ${target.searchParams.get('error_description') ?? ''}`);
          if (target.searchParams.get('state') !== state) throw new Error('IdP login: state mismatch');
          const code = target.searchParams.get('code');
          if (code === null) throw new Error('IdP login: no code in the callback');
          return await redeem(id, code, verifier);
        }
        next = { url: target.toString() };
        continue;
      }
      const page = await res.text();
      if (res.status !== 200 || !next.url.includes('/interaction/')) {
        throw new Error(`IdP login: unexpected HTTP ${res.status} at ${next.url}`);
      }
      const prompt = /name="prompt" value="(login|consent)"/.exec(page)?.[1];
      if (prompt === 'login') next = { url: next.url, init: form({ prompt: 'login', login: user, password: 'any' }) };
      else if (prompt === 'consent') next = { url: next.url, init: form({ prompt: 'consent' }) };
      else throw new Error('IdP login: neither a login nor a consent page');
    }
    throw new Error('IdP login: too many redirects');
  }

  async function redeem(id: string, code: string, verifier: string): Promise<string> {
    const res = await fetch(new URL('/token', issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        client_id: id,
        client_secret: CLIENT_SECRET,
      }).toString(),
    });
    const body = (await res.json()) as { id_token?: unknown; error?: unknown };
    if (!res.ok || typeof body.id_token !== 'string') throw new Error(`IdP token endpoint: HTTP ${res.status} ${String(body.error)}`);
    return body.id_token;
  }

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    clientId,
    otherClientId,
    login,
    setGroups(sub, groups) {
      const user = users.get(sub);
      if (user === undefined) throw new Error(`no IdP user ${sub}`);
      users.set(sub, { ...user, groups: [...groups] });
    },
    removeUser(sub) {
      users.delete(sub);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}
