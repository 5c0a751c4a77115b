/**
 * Behaviour that needs the built-in server's injected clock or its test switches (faults, seal):
 * these run only against the built-in server, never against a real Vault.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { startPostgres, type TestPostgres } from '../src/postgres.js';
import { startVaultServer, type VaultTestServer } from '../src/server.js';
import { call, canLogin, configureDatabase, expectStatus, obj, roleExists, str } from './fixtures.js';

let postgres: TestPostgres;
let server: VaultTestServer;
// Real wall time as the start: PostgreSQL checks VALID UNTIL against its own clock.
const clock = new ManualClock(Date.now());
let address = '';
let root = '';

async function token(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  return obj(expectStatus(await call(address, root, 'POST', 'auth/token/create', body), 200).auth);
}

async function creds(tokenId: string, role: string): Promise<{ leaseId: string; username: string; password: string; leaseDuration: number }> {
  const body = expectStatus(await call(address, tokenId, 'GET', `database/creds/${role}`), 200);
  const data = obj(body.data);
  return { leaseId: str(body.lease_id), username: str(data.username), password: str(data.password), leaseDuration: body.lease_duration as number };
}

before(async () => {
  postgres = await startPostgres();
  server = await startVaultServer({ clock });
  address = server.address;
  root = server.rootToken;
  await configureDatabase(address, root, postgres.url, 'pg', {
    short: { defaultTtl: '5s', maxTtl: '20s' },
    long: { defaultTtl: '1h', maxTtl: '24h' },
  });
  expectStatus(await call(address, root, 'PUT', 'sys/policies/acl/creds', { policy: 'path "database/creds/*" { capabilities = ["read"] }\npath "auth/token/create" { capabilities = ["update"] }' }), 204);
});

after(async () => {
  await server.close();
  await postgres.stop();
});

describe('expiry on the injected clock', () => {
  it('a ttl 2s token answers 403 after 2 s and its database user is gone', async () => {
    const auth = await token({ policies: ['creds'], ttl: '2s' });
    const t = str(auth.client_token);
    const lease = await creds(t, 'long');
    assert.equal(lease.leaseDuration, 2, 'a lease never outlives its token');
    assert.equal(await canLogin(postgres.url, lease.username, lease.password), true);
    clock.advance(1999);
    expectStatus(await call(address, t, 'GET', 'auth/token/lookup-self'), 200);
    clock.advance(1);
    expectStatus(await call(address, t, 'GET', 'auth/token/lookup-self'), 403);
    await server.settled();
    assert.equal(await roleExists(postgres.url, lease.username), false);
    assert.equal(await canLogin(postgres.url, lease.username, lease.password), false);
  });

  it('a lease past its TTL is revoked while its token lives on', async () => {
    const t = str((await token({ policies: ['creds'], ttl: '1h' })).client_token);
    const lease = await creds(t, 'short');
    assert.equal(lease.leaseDuration, 5);
    clock.advance(5000);
    await server.settled();
    assert.equal(await roleExists(postgres.url, lease.username), false);
    expectStatus(await call(address, root, 'PUT', 'sys/leases/lookup', { lease_id: lease.leaseId }), 400);
    expectStatus(await call(address, t, 'GET', 'auth/token/lookup-self'), 200);
  });

  it('expiry of a parent takes its non-orphan children and their leases', async () => {
    const parent = str((await token({ policies: ['creds'], ttl: '3s' })).client_token);
    const child = str(obj(expectStatus(await call(address, parent, 'POST', 'auth/token/create', { ttl: '1h' }), 200).auth).client_token);
    const lease = await creds(child, 'long');
    clock.advance(3000);
    expectStatus(await call(address, child, 'GET', 'auth/token/lookup-self'), 403);
    await server.settled();
    assert.equal(await roleExists(postgres.url, lease.username), false);
  });

  it('explicit_max_ttl ends the token even after renewals', async () => {
    const t = str((await token({ policies: ['creds'], ttl: '4s', explicit_max_ttl: '6s' })).client_token);
    clock.advance(3000);
    const renewed = obj(expectStatus(await call(address, t, 'POST', 'auth/token/renew-self', { increment: '1h' }), 200).auth);
    assert.equal(renewed.lease_duration, 3);
    clock.advance(3000);
    expectStatus(await call(address, t, 'GET', 'auth/token/lookup-self'), 403);
  });

  it('lease renewal is capped at the role max_ttl measured from issue', async () => {
    const lease = await creds(root, 'short');
    clock.advance(4000);
    const first = expectStatus(await call(address, root, 'PUT', 'sys/leases/renew', { lease_id: lease.leaseId, increment: 10 }), 200);
    assert.equal(first.lease_duration, 10);
    clock.advance(9000);
    const capped = expectStatus(await call(address, root, 'PUT', 'sys/leases/renew', { lease_id: lease.leaseId, increment: 3600 }), 200);
    assert.equal(capped.lease_duration, 7);
    assert.ok(Array.isArray(capped.warnings));
    clock.advance(7000);
    await server.settled();
    assert.equal(await roleExists(postgres.url, lease.username), false);
  });

  it('exhausting num_uses revokes the token and the lease it created', async () => {
    const t = str((await token({ policies: ['creds'], ttl: '1h', num_uses: 1 })).client_token);
    const lease = await creds(t, 'long');
    expectStatus(await call(address, t, 'GET', 'auth/token/lookup-self'), 403);
    await server.settled();
    assert.equal(await roleExists(postgres.url, lease.username), false);
  });

  it('a wrapping token dies at its wrap TTL', async () => {
    const info = obj(expectStatus(await call(address, root, 'POST', 'auth/token/create', { policies: ['creds'] }, { 'X-Vault-Wrap-TTL': '10s' }), 200).wrap_info);
    clock.advance(10_000);
    expectStatus(await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap'), 400);
  });
});

describe('test switches', () => {
  it('seal makes every endpoint 503 and sys/health report sealed', async () => {
    server.seal();
    try {
      const health = expectStatus(await call(address, null, 'GET', 'sys/health'), 503);
      assert.equal(health.sealed, true);
      const body = expectStatus(await call(address, root, 'GET', 'auth/token/lookup-self'), 503);
      assert.deepEqual(body.errors, ['Vault is sealed']);
    } finally {
      server.unseal();
    }
    expectStatus(await call(address, root, 'GET', 'auth/token/lookup-self'), 200);
  });

  it('fail answers the injected status, limited by times and method', async () => {
    server.faults.fail('auth/token/create', 500, { times: 1 });
    const body = expectStatus(await call(address, root, 'POST', 'auth/token/create', {}), 500);
    assert.deepEqual(body.errors, ['injected fault']);
    expectStatus(await call(address, root, 'POST', 'auth/token/create', {}), 200);
    server.faults.fail('/v1/sys/leases', 503, { method: 'PUT' });
    server.faults.fail('sys/leases', 502, { method: 'POST' });
    expectStatus(await call(address, root, 'PUT', 'sys/leases/lookup', { lease_id: 'x' }), 502);
    server.faults.clear();
    expectStatus(await call(address, root, 'PUT', 'sys/leases/lookup', { lease_id: 'x' }), 400);
  });

  it('hang holds requests until clear, which closes them unanswered', async () => {
    server.faults.hang('auth/token/lookup-self');
    const pending = fetch(`${address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': root } });
    const other = await call(address, root, 'GET', 'sys/health');
    assert.equal(other.status, 200);
    server.faults.clear();
    await assert.rejects(pending);
    expectStatus(await call(address, root, 'GET', 'auth/token/lookup-self'), 200);
  });

  it('latency delays but still answers', async () => {
    server.faults.latency('sys/health', 20);
    try {
      expectStatus(await call(address, null, 'GET', 'sys/health'), 200);
    } finally {
      server.faults.clear();
    }
  });

  it('LIST and bodies interleave on one keep-alive connection', async () => {
    for (let i = 0; i < 3; i += 1) {
      expectStatus(await call(address, root, 'POST', `secret/data/ka/${i}`, { data: { i } }), 200);
      const keys = obj(expectStatus(await call(address, root, 'LIST', 'secret/metadata/ka'), 200).data).keys;
      assert.equal((keys as unknown[]).length, i + 1);
    }
  });
});
