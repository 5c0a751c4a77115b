import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { systemClock } from '../../src/common/clock.js';
import { UnavailableError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { identityUrl } from '../../src/daemon/identity/bounded-fetch.js';
import { createIdpApproverResolver } from '../../src/daemon/identity/idp-approver-resolver.js';
import { OidcClient } from '../../src/daemon/web/oidc-client.js';
import { makeKey, type IssuerKey } from '../support/ci-issuer.js';

const AUDIENCE = 'jitgate';
/** jwks-cache.ts and oidc-client.ts caps. */
const JWKS_CAP = 512 * 1024;
const IDP_CAP = 256 * 1024;
/** What a streaming reader may have pulled ahead of the check (a few socket chunks). */
const SLACK = 256 * 1024;
/** Where the endless body gives up if nothing cuts it off: far beyond any cap. */
const ENDLESS_LIMIT = 256 * 1024 * 1024;

type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void;

interface TestServer {
  readonly base: string;
  /** Requests per path. */
  readonly hits: Map<string, number>;
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function startServer(): Promise<TestServer> {
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', base).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler) handler(req, res, base);
    else json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const s: TestServer = {
    base,
    hits,
    route: (path, handler) => routes.set(path, handler),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => {
          done();
        });
      }),
  };
  servers.push(s);
  return s;
}

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A body that never ends on its own: 64 KiB chunks until the client goes away (or ENDLESS_LIMIT). */
function endless(written: { bytes: number; closed: Promise<void> }): Handler {
  return (_req, res) => {
    let done = (): void => undefined;
    written.closed = new Promise<void>((resolve) => (done = resolve));
    res.on('close', done);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"keys":[');
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => {
      while (!res.destroyed && written.bytes < ENDLESS_LIMIT) {
        written.bytes += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end(']}');
    };
    pump();
  };
}

/** The global fetch, recording each URL asked for and counting the body bytes handed to the reader. */
function recordingFetch(): { fetch: typeof fetch; urls: string[]; bytesRead: () => number } {
  const urls: string[] = [];
  let bytes = 0;
  const wrapped: typeof fetch = async (input, init) => {
    urls.push(input instanceof Request ? input.url : String(input));
    const res = await fetch(input, init);
    if (res.body === null) return res;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  return { fetch: wrapped, urls, bytesRead: () => bytes };
}

/** An IdP on `server`: discovery naming `jwksUri` (default: its own /jwks serving `key`). */
function serveIdp(server: TestServer, key: IssuerKey, jwksUri = `${server.base}/jwks`): void {
  server.route('/.well-known/openid-configuration', (_req, res, base) => {
    json(res, 200, { issuer: base, jwks_uri: jwksUri, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token` });
  });
  server.route('/jwks', (_req, res) => {
    json(res, 200, { keys: [key.publicJwk] });
  });
}

async function tokenFor(issuer: string, key: IssuerKey): Promise<string> {
  return new SignJWT({ groups: ['sre'] })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(issuer)
    .setAudience(AUDIENCE)
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

/** Verifies `token` as an approver token of `issuer`, exactly as the daemon does. */
async function verify(issuer: string, token: string, fetcher: typeof fetch, jwksUri?: string): Promise<unknown> {
  const resolver = createIdpApproverResolver({
    config: { issuer, audience: AUDIENCE, groupsClaim: 'groups', ...(jwksUri === undefined ? {} : { jwksUri }) },
    clock: systemClock,
    logger: silentLogger(),
    fetch: fetcher,
  });
  try {
    return await resolver.resolve({ authorization: `Bearer ${token}` });
  } finally {
    resolver.close();
  }
}

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UnavailableError, `expected UnavailableError, got ${String(err)}`);
    const chain = [err.message, err.cause instanceof Error ? err.cause.message : ''].join(' | ');
    assert.match(chain, pattern);
    return true;
  });
}

describe('security 08: identity documents are fetched bounded, over https, without cross-origin redirects', () => {
  it('control: a well-behaved loopback IdP verifies', async () => {
    const key = await makeKey();
    const idp = await startServer();
    serveIdp(idp, key);
    const rec = recordingFetch();
    const identity = await verify(idp.base, await tokenFor(idp.base, key), rec.fetch);
    assert.equal((identity as { subject: string }).subject, 'alice');
    assert.deepEqual(rec.urls, [`${idp.base}/.well-known/openid-configuration`, `${idp.base}/jwks`]);
  });

  describe('size cap', () => {
    it('an endless JWKS is cut off at the cap: bytes read stay bounded, the connection is dropped, verification fails', async () => {
      const key = await makeKey();
      const idp = await startServer();
      serveIdp(idp, key);
      const written = { bytes: 0, closed: Promise.resolve() };
      idp.route('/jwks', endless(written));
      const rec = recordingFetch();
      await refused(verify(idp.base, await tokenFor(idp.base, key), rec.fetch), /larger than 524288 bytes/);
      assert.ok(rec.bytesRead() > JWKS_CAP, `read only ${String(rec.bytesRead())} bytes`);
      assert.ok(rec.bytesRead() <= JWKS_CAP + SLACK, `read ${String(rec.bytesRead())} bytes of an endless body`);
      await written.closed;
      assert.ok(written.bytes < ENDLESS_LIMIT, 'the server kept writing to the end: the transfer was never aborted');
    });

    it('an endless discovery document is cut off too', async () => {
      const key = await makeKey();
      const idp = await startServer();
      const written = { bytes: 0, closed: Promise.resolve() };
      idp.route('/.well-known/openid-configuration', endless(written));
      const rec = recordingFetch();
      await refused(verify(idp.base, await tokenFor(idp.base, key), rec.fetch), /larger than/);
      assert.ok(rec.bytesRead() <= JWKS_CAP + SLACK, `read ${String(rec.bytesRead())} bytes`);
      await written.closed;
      assert.ok(written.bytes < ENDLESS_LIMIT);
    });

    it('a declared Content-Length over the cap is refused before the body is read', async () => {
      const key = await makeKey();
      const idp = await startServer();
      serveIdp(idp, key);
      idp.route('/jwks', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 ** 3) });
        res.write(Buffer.alloc(16 * 1024, 0x20));
      });
      const rec = recordingFetch();
      await refused(verify(idp.base, await tokenFor(idp.base, key), rec.fetch), /larger than/);
      assert.ok(rec.bytesRead() < JWKS_CAP / 2, `read ${String(rec.bytesRead())} bytes`);
    });

    it('the web sign-in client caps the IdP discovery answer as well', async () => {
      const idp = await startServer();
      const written = { bytes: 0, closed: Promise.resolve() };
      idp.route('/.well-known/openid-configuration', endless(written));
      const rec = recordingFetch();
      const client = new OidcClient({ issuer: idp.base, clientId: 'c', clientSecret: 's', redirectUri: 'http://127.0.0.1/cb', scopes: ['openid'], fetch: rec.fetch });
      await refused(client.authorizationUrl({ state: 's', nonce: 'n', verifier: 'v'.repeat(43) }), /larger than 262144 bytes/);
      assert.ok(rec.bytesRead() <= IDP_CAP + SLACK, `read ${String(rec.bytesRead())} bytes`);
      await written.closed;
      assert.ok(written.bytes < ENDLESS_LIMIT);
    });
  });

  describe('plain http', () => {
    it('is allowed only to loopback hosts (127.0.0.0/8, ::1, localhost)', () => {
      for (const ok of ['https://idp.example/jwks', 'http://127.0.0.1:8080/', 'http://127.9.8.7/', 'http://[::1]:9000/', 'http://localhost/', 'http://LOCALHOST:1/']) {
        assert.equal(identityUrl(ok, 'jwks_uri').href, new URL(ok).href, ok);
      }
      for (const bad of ['http://jwks.example.test/', 'http://127.0.0.1.nip.io/', 'http://0.0.0.0/', 'http://10.0.0.1/', 'http://[::ffff:7f00:1]/', 'ftp://127.0.0.1/', 'file:///etc/passwd', 'not a url']) {
        assert.throws(() => identityUrl(bad, 'jwks_uri'), UnavailableError, bad);
      }
    });

    it('a discovered http: jwks_uri on a non-loopback host is refused before any connection', async () => {
      const key = await makeKey();
      const idp = await startServer();
      serveIdp(idp, key, 'http://jwks.example.test/jwks');
      const rec = recordingFetch();
      await refused(verify(idp.base, await tokenFor(idp.base, key), rec.fetch), /jwks_uri must be an https URL/);
      assert.deepEqual(rec.urls, [`${idp.base}/.well-known/openid-configuration`]);
    });

    it('a configured http: jwks_uri on a non-loopback host is never fetched', async () => {
      const key = await makeKey();
      const idp = await startServer();
      serveIdp(idp, key);
      const rec = recordingFetch();
      await refused(verify(idp.base, await tokenFor(idp.base, key), rec.fetch, 'http://jwks.example.test/'), /must be an https URL/);
      assert.deepEqual(rec.urls, []);
    });
  });

  describe('redirects', () => {
    it('a JWKS redirect to another origin is refused, even to a server with the right keys', async () => {
      const key = await makeKey();
      const idp = await startServer();
      const elsewhere = await startServer();
      serveIdp(idp, key);
      serveIdp(elsewhere, key);
      idp.route('/jwks', (_req, res) => {
        res.writeHead(302, { location: `${elsewhere.base}/jwks` });
        res.end();
      });
      const rec = recordingFetch();
      await refused(verify(idp.base, await tokenFor(idp.base, key), rec.fetch), /redirect to another origin refused/);
      assert.equal(elsewhere.hits.get('/jwks'), undefined);
    });

    it('a discovery redirect to another origin is refused (verifier and web sign-in)', async () => {
      const key = await makeKey();
      const idp = await startServer();
      const elsewhere = await startServer();
      serveIdp(elsewhere, key);
      idp.route('/.well-known/openid-configuration', (_req, res) => {
        res.writeHead(301, { location: `${elsewhere.base}/.well-known/openid-configuration` });
        res.end();
      });
      const rec = recordingFetch();
      await refused(verify(idp.base, await tokenFor(idp.base, key), rec.fetch), /redirect to another origin refused/);
      const client = new OidcClient({ issuer: idp.base, clientId: 'c', clientSecret: 's', redirectUri: 'http://127.0.0.1/cb', scopes: ['openid'], fetch: rec.fetch });
      await refused(client.authorizationUrl({ state: 's', nonce: 'n', verifier: 'v'.repeat(43) }), /redirect to another origin refused/);
      assert.equal(elsewhere.hits.get('/.well-known/openid-configuration'), undefined);
    });

    it('same-origin GET redirects are followed, at most three', async () => {
      const key = await makeKey();
      const idp = await startServer();
      serveIdp(idp, key, `${idp.base}/r1`);
      idp.route('/r1', (_req, res) => {
        res.writeHead(302, { location: '/r2' });
        res.end();
      });
      idp.route('/r2', (_req, res) => {
        res.writeHead(307, { location: `${idp.base}/jwks` });
        res.end();
      });
      const identity = await verify(idp.base, await tokenFor(idp.base, key), recordingFetch().fetch);
      assert.equal((identity as { subject: string }).subject, 'alice');

      const loop = await startServer();
      serveIdp(loop, key, `${loop.base}/loop`);
      loop.route('/loop', (_req, res) => {
        res.writeHead(302, { location: '/loop' });
        res.end();
      });
      await refused(verify(loop.base, await tokenFor(loop.base, key), recordingFetch().fetch), /more than 3 redirects/);
      assert.equal(loop.hits.get('/loop'), 4);
    });

    it('the token endpoint POST (carrying the client secret) is never redirected, not even same-origin', async () => {
      const key = await makeKey();
      const idp = await startServer();
      serveIdp(idp, key);
      idp.route('/token', (_req, res) => {
        res.writeHead(307, { location: '/token2' });
        res.end();
      });
      const client = new OidcClient({ issuer: idp.base, clientId: 'c', clientSecret: 's', redirectUri: 'http://127.0.0.1/cb', scopes: ['openid'], fetch: recordingFetch().fetch });
      await refused(client.redeem('code', 'v'.repeat(43)), /redirect of a POST refused/);
      assert.equal(idp.hits.get('/token2'), undefined);
    });
  });
});
