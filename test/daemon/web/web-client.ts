/**
 * A minimal browser for the approval page tests: a cookie jar (by name; every server here is on
 * 127.0.0.1, which shares cookies across ports as browsers do) and the IdP's development login.
 */
export const IDP_REDIRECT_URI = 'http://127.0.0.1/callback';
/** The test IdP's registered secret for its clients (test/support/idp.ts). */
export const IDP_CLIENT_SECRET = 'test-client-secret-not-a-real-one';

export class WebClient {
  readonly #cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  get cookieHeader(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(new URL(url, this.base), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string> | undefined), cookie: this.cookieHeader },
    });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(pair.slice(0, eq).trim());
      else this.#cookies.set(pair.slice(0, eq).trim(), value);
    }
    return res;
  }

  /** GET with redirects followed by hand; returns the final response. */
  async get(url: string): Promise<Response> {
    let res = await this.fetch(url);
    for (let hop = 0; hop < 5 && res.status >= 300 && res.status < 400; hop++) {
      await res.body?.cancel();
      res = await this.fetch(new URL(res.headers.get('location') ?? '/', res.url || this.base).toString());
    }
    return res;
  }

  /** A form POST as our own page would send it. */
  post(path: string, form: Record<string, string>, headers: Record<string, string> = { origin: this.base }): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  /**
   * Signs in through the page's "Sign in" link and the IdP's login and consent pages. The IdP only
   * knows its registered redirect URI, which stands in for the proxy that maps it to the daemon.
   */
  async signIn(requestId: string, user: string): Promise<Response> {
    return this.finishSignIn(await this.startSignIn(requestId, user));
  }

  /**
   * The first half of `signIn`: the "Sign in" link and the IdP's pages, up to the redirect back.
   * Resolves with the daemon's callback URL, not yet visited (an approver mid-login).
   */
  async startSignIn(requestId: string, user: string): Promise<string> {
    let url = new URL(`/auth/login?return=${encodeURIComponent(`/requests/${requestId}`)}`, this.base).toString();
    let init: RequestInit | undefined;
    for (let hop = 0; hop < 20; hop++) {
      const res = await this.fetch(url, init);
      init = undefined;
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location !== null) {
        await res.body?.cancel();
        const target = new URL(location, url);
        if (target.toString().startsWith(IDP_REDIRECT_URI)) return new URL(`/auth/callback${target.search}`, this.base).toString();
        url = target.toString();
        continue;
      }
      const text = await res.text();
      const prompt = /name="prompt" value="(login|consent)"/.exec(text)?.[1];
      if (prompt === undefined) throw new Error(`sign-in: unexpected HTTP ${String(res.status)} at ${url}: ${text.slice(-600)}`);
      const body = prompt === 'login' ? { prompt, login: user, password: 'any' } : { prompt };
      init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() };
    }
    throw new Error('sign-in: too many redirects');
  }

  /** The second half of `signIn`: back at the daemon's callback. */
  finishSignIn(callbackUrl: string): Promise<Response> {
    return this.fetch(callbackUrl);
  }
}

export function csrfOf(page: string): string {
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (csrf === undefined) throw new Error('no CSRF token on the page');
  return csrf;
}
