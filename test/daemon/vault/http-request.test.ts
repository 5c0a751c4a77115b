import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { VaultHttpError, createVaultClient, type VaultClient } from '../../../src/daemon/vault/vault-client.js';

// node-vault runs over src/daemon/vault/client/http-request.ts (node:http, not axios). These drive
// it against plain HTTP servers that answer what a Vault, a standby or a proxy in front may answer.

const TOKEN = 'hvs.daemon-token-under-test';
const CHILD = { policies: ['default'], ttl: '30s', explicitMaxTtl: '30s', renewable: false, meta: {}, displayName: 'jitgate-test' } as const;
const AUTH_BODY = JSON.stringify({ auth: { client_token: 'hvs.child', accessor: 'acc-1', lease_duration: 30, renewable: false } });

interface Seen {
  method: string;
  url: string;
  token: string | undefined;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const servers: (http.Server | https.Server)[] = [];
const clients: VaultClient[] = [];
let dir: string;
let tls: { key: Buffer; cert: Buffer };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jitgate-vault-http-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'),
  ], { stdio: 'ignore' });
  tls = { key: await readFile(join(dir, 'tls.key')), cert: await readFile(join(dir, 'tls.crt')) };
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => {
      resolve();
    });
  })));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serve(handler: Handler, secure = false): Promise<{ address: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const token = req.headers['x-vault-token'];
      seen.push({ method: req.method ?? '', url: req.url ?? '', token: typeof token === 'string' ? token : undefined, body });
      handler(req, res, body);
    });
  };
  const server = secure ? https.createServer(tls, listener) : http.createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { address: `${secure ? 'https' : 'http'}://127.0.0.1:${String(port)}`, seen };
}

function client(address: string, options: { timeoutMs?: number; caPem?: string } = {}): VaultClient {
  const c = createVaultClient({ address, timeoutMs: options.timeoutMs ?? 5000, token: TOKEN, ...(options.caPem === undefined ? {} : { caPem: options.caPem }) });
  clients.push(c);
  return c;
}

async function rejectsVault(promise: Promise<unknown>): Promise<VaultHttpError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof VaultHttpError, `expected VaultHttpError, got ${String(err)}`);
    assert.doesNotMatch(`${err.message} ${String((err.cause as Error | undefined)?.message)}`, new RegExp(TOKEN));
    return err;
  }
  assert.fail('expected a rejection');
}

describe('vault HTTP transport (node:http under node-vault)', () => {
  it('sends the JSON body and the token, keeps the connection alive, parses the answer', async () => {
    const sockets = new Set<unknown>();
    const vault = await serve((req, res) => {
      sockets.add(req.socket);
      res.writeHead(200, { 'content-type': 'application/json' }).end(AUTH_BODY);
    });
    const c = client(vault.address);
    for (let i = 0; i < 3; i += 1) assert.deepEqual(await c.createChildToken(CHILD), { token: 'hvs.child', accessor: 'acc-1', leaseDurationS: 30 });
    assert.equal(vault.seen.length, 3);
    assert.equal(vault.seen[0]?.method, 'POST');
    assert.equal(vault.seen[0].url, '/v1/auth/token/create');
    assert.equal(vault.seen[0].token, TOKEN);
    assert.deepEqual((JSON.parse(vault.seen[0].body) as { policies: string[] }).policies, ['default']);
    assert.equal(sockets.size, 1, 'three calls on one kept-alive connection');
  });

  it('an empty 204 is success (revoke), and a GET carries no body', async () => {
    const vault = await serve((req, res) => {
      if (req.url === '/v1/auth/token/lookup-self') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { ttl: 90, renewable: true } }));
        return;
      }
      res.writeHead(204).end();
    });
    const c = client(vault.address);
    await c.revokeAccessor('acc-1');
    assert.deepEqual(await c.lookupSelf(), { ttlS: 90, renewable: true });
    assert.equal(vault.seen[0]?.body, JSON.stringify({ accessor: 'acc-1' }));
    assert.equal(vault.seen[1]?.method, 'GET');
    assert.equal(vault.seen[1].body, '');
  });

  it("follows a standby's 307 to the active node with the same method, body and token", async () => {
    const active = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(AUTH_BODY);
    });
    const standby = await serve((req, res) => {
      res.writeHead(307, { location: `${active.address}${req.url ?? ''}` }).end();
    });
    const c = client(standby.address);
    assert.equal((await c.createChildToken(CHILD)).accessor, 'acc-1');
    assert.equal(standby.seen.length, 1);
    assert.equal(active.seen.length, 1);
    assert.equal(active.seen[0]?.method, 'POST');
    assert.equal(active.seen[0].url, '/v1/auth/token/create');
    assert.equal(active.seen[0].token, TOKEN);
    assert.equal(active.seen[0].body, standby.seen[0]?.body);
  });

  it('a redirect loop ends after five hops with no status; 301/302 are not followed', async () => {
    const loop = await serve((req, res) => {
      res.writeHead(308, { location: req.url ?? '/' }).end();
    });
    const err = await rejectsVault(client(loop.address).createChildToken(CHILD));
    assert.equal(err.status, null);
    assert.equal(loop.seen.length, 6, 'the first request and five redirects');

    const moved = await serve((_req, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
    });
    assert.equal((await rejectsVault(client(moved.address).createChildToken(CHILD))).status, 302);
  });

  it('a redirect from https to http is refused: the token never leaves TLS', async () => {
    const plain = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(AUTH_BODY);
    });
    const secure = await serve((req, res) => {
      res.writeHead(307, { location: `${plain.address}${req.url ?? ''}` }).end();
    }, true);
    const err = await rejectsVault(client(secure.address, { caPem: tls.cert.toString() }).createChildToken(CHILD));
    assert.equal(err.status, null);
    assert.equal(secure.seen.length, 1);
    assert.equal(plain.seen.length, 0, 'nothing reached the plain-HTTP address');
  });

  it('TLS is verified against the configured CA only; VAULT_SKIP_VERIFY does not turn it off', async () => {
    const secure = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(AUTH_BODY);
    }, true);
    assert.equal((await client(secure.address, { caPem: tls.cert.toString() }).createChildToken(CHILD)).accessor, 'acc-1');
    const previous = process.env.VAULT_SKIP_VERIFY;
    process.env.VAULT_SKIP_VERIFY = '1';
    try {
      const err = await rejectsVault(client(secure.address).createChildToken(CHILD));
      assert.equal(err.status, null);
      assert.match(err.message, /unreachable/);
    } finally {
      if (previous === undefined) delete process.env.VAULT_SKIP_VERIFY;
      else process.env.VAULT_SKIP_VERIFY = previous;
    }
    assert.equal(secure.seen.length, 1, 'the unverified call never sent its request');
  });

  it("a proxy's HTML error page is that status, with no page text in the message", async () => {
    const proxy = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway: upstream secret-looking-text</html>');
    });
    const err = await rejectsVault(client(proxy.address).createChildToken(CHILD));
    assert.equal(err.status, 502);
    assert.equal(err.retryable, true);
    assert.doesNotMatch(err.message, /secret-looking-text/);
    assert.equal(err.vaultMessage, '');
  });

  it('an answer that stalls half-way times out (status null, "timed out"); an oversized body is refused', async () => {
    const stall = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"auth":');
    });
    const err = await rejectsVault(client(stall.address, { timeoutMs: 300 }).createChildToken(CHILD));
    assert.equal(err.status, null);
    assert.match(err.message, /timed out/);
    assert.equal(err.retryable, true);

    const huge = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 9; i += 1) res.write(chunk);
      res.end();
    });
    const big = await rejectsVault(client(huge.address).createChildToken(CHILD));
    assert.equal(big.status, null);
  });
});
