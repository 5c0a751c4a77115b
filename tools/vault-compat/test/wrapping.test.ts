/**
 * Response wrapping (X-Vault-Wrap-TTL, sys/wrapping/wrap, lookup, unwrap) and auth/token/revoke-self,
 * as fleet mode's plane flow uses them: the plane wraps a minted grant, the owner unwraps it once
 * and later revokes the child token with itself. Built-in server only (the injected clock drives
 * the wrap TTL); the contract suite covers the parts that also run against a real Vault.
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

const INVALID = 'wrapping token is not valid or does not exist';

async function token(body: Record<string, unknown>, parent = root): Promise<{ id: string; accessor: string }> {
  const auth = obj(expectStatus(await call(address, parent, 'POST', 'auth/token/create', body), 200).auth);
  return { id: str(auth.client_token), accessor: str(auth.accessor) };
}

function errorsOf(body: Record<string, unknown>): unknown {
  return body.errors;
}

before(async () => {
  postgres = await startPostgres();
  server = await startVaultServer({ clock });
  address = server.address;
  root = server.rootToken;
  await configureDatabase(address, root, postgres.url, 'pg', { app: { defaultTtl: '1h', maxTtl: '24h' } });
  expectStatus(
    await call(address, root, 'PUT', 'sys/policies/acl/creds', {
      policy: 'path "database/creds/*" { capabilities = ["read"] }\npath "auth/token/create" { capabilities = ["update"] }',
    }),
    204,
  );
});

after(async () => {
  await server.close();
  await postgres.stop();
});

describe('X-Vault-Wrap-TTL', () => {
  it('answers a wrapped creds read with wrap_info only, and the unwrap returns the original read once', async () => {
    const caller = await token({ policies: ['creds'], ttl: '1h' });
    const wrapped = expectStatus(await call(address, caller.id, 'GET', 'database/creds/app', undefined, { 'X-Vault-Wrap-TTL': '60' }), 200);
    assert.equal(wrapped.data, null, 'the secret is not in the wrapped answer');
    assert.equal(wrapped.lease_id, '');
    const info = obj(wrapped.wrap_info);
    assert.deepEqual(Object.keys(info).sort(), ['accessor', 'creation_path', 'creation_time', 'token', 'ttl']);
    assert.equal(info.ttl, 60);
    assert.equal(info.creation_path, 'database/creds/app');
    assert.ok(!Number.isNaN(Date.parse(str(info.creation_time))));
    assert.match(str(info.token), /^hvs\./);
    assert.equal(str(info.accessor).length, 24);

    // Unwrapped with the wrapping token as the client token (the owner daemon has no token of its own).
    const first = expectStatus(await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap'), 200);
    const data = obj(first.data);
    assert.match(str(first.lease_id), /^database\/creds\/app\//);
    assert.equal(await canLogin(postgres.url, str(data.username), str(data.password)), true);

    const second = await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap');
    assert.equal(second.status, 400);
    assert.deepEqual(errorsOf(second.body ?? {}), [INVALID]);
    // The lease belongs to the token that read, not to the wrapping token: unwrapping did not end it.
    assert.equal(await canLogin(postgres.url, str(data.username), str(data.password)), true);
  });

  it('accepts a Go duration, and the wrapping token dies at exactly its wrap TTL', async () => {
    const info = obj(expectStatus(await call(address, root, 'POST', 'sys/wrapping/wrap', { k: 'v' }, { 'X-Vault-Wrap-TTL': '30s' }), 200).wrap_info);
    assert.equal(info.ttl, 30);
    clock.advance(29_999);
    const looked = obj(expectStatus(await call(address, null, 'POST', 'sys/wrapping/lookup', { token: info.token }), 200).data);
    assert.equal(looked.creation_ttl, 30);
    clock.advance(1);
    const lookup = await call(address, null, 'POST', 'sys/wrapping/lookup', { token: info.token });
    assert.equal(lookup.status, 400);
    assert.deepEqual(errorsOf(lookup.body ?? {}), [INVALID]);
    const unwrap = await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap');
    assert.equal(unwrap.status, 400);
    assert.deepEqual(errorsOf(unwrap.body ?? {}), [INVALID]);
  });

  it('refuses a malformed wrap TTL with 400 and creates nothing', async () => {
    const res = await call(address, root, 'POST', 'sys/wrapping/wrap', { k: 'v' }, { 'X-Vault-Wrap-TTL': 'soon' });
    assert.equal(res.status, 400);
    assert.equal(res.body?.wrap_info, undefined);
  });
});

describe('sys/wrapping/wrap, lookup and unwrap', () => {
  it('wraps arbitrary (nested) data and returns exactly that data on unwrap', async () => {
    const payload = { token: 'hvs.not-a-real-one', lease_ids: ['a/b/c'], credentials: { PGUSER: 'u' }, ttl_ms: 60000 };
    const caller = await token({ policies: ['creds'], ttl: '1h' });
    const info = obj(expectStatus(await call(address, caller.id, 'POST', 'sys/wrapping/wrap', payload, { 'X-Vault-Wrap-TTL': '120' }), 200).wrap_info);
    assert.equal(info.creation_path, 'sys/wrapping/wrap');
    const looked = obj(expectStatus(await call(address, null, 'POST', 'sys/wrapping/lookup', { token: info.token }), 200).data);
    assert.equal(looked.creation_path, 'sys/wrapping/wrap');
    assert.equal(looked.creation_ttl, 120);
    // Lookup does not use the token up.
    const out = expectStatus(await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap'), 200);
    assert.deepEqual(out.data, payload);
  });

  it('unwraps with the token in the body for a caller whose policy (default) allows it', async () => {
    const info = obj(expectStatus(await call(address, root, 'POST', 'sys/wrapping/wrap', { k: 'v' }, { 'X-Vault-Wrap-TTL': '60' }), 200).wrap_info);
    const plain = await token({ policies: ['creds'], ttl: '1h' });
    const out = expectStatus(await call(address, plain.id, 'POST', 'sys/wrapping/unwrap', { token: info.token }), 200);
    assert.deepEqual(out.data, { k: 'v' });
    const again = await call(address, plain.id, 'POST', 'sys/wrapping/unwrap', { token: info.token });
    assert.equal(again.status, 400);
    assert.deepEqual(errorsOf(again.body ?? {}), [INVALID]);
  });

  it('denies body unwrap to a caller without sys/wrapping/unwrap, and does not use the wrapping token up', async () => {
    const info = obj(expectStatus(await call(address, root, 'POST', 'sys/wrapping/wrap', { k: 'v' }, { 'X-Vault-Wrap-TTL': '60' }), 200).wrap_info);
    const bare = await token({ policies: ['creds'], ttl: '1h', no_default_policy: true });
    expectStatus(await call(address, bare.id, 'POST', 'sys/wrapping/unwrap', { token: info.token }), 403);
    expectStatus(await call(address, null, 'POST', 'sys/wrapping/unwrap', { token: info.token }), 403);
    expectStatus(await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap'), 200);
  });

  it('gives a wrapping token nothing but unwrap and lookup', async () => {
    const info = obj(expectStatus(await call(address, root, 'POST', 'sys/wrapping/wrap', { k: 'v' }, { 'X-Vault-Wrap-TTL': '60' }), 200).wrap_info);
    expectStatus(await call(address, str(info.token), 'GET', 'auth/token/lookup-self'), 403);
    expectStatus(await call(address, str(info.token), 'GET', 'database/creds/app'), 403);
    expectStatus(await call(address, str(info.token), 'POST', 'auth/token/create', { policies: ['creds'] }), 403);
    expectStatus(await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap'), 200);
  });
});

describe('auth/token/revoke-self', () => {
  it('revokes the calling token, its children and their database leases, and leaves the parent alone', async () => {
    const parent = await token({ policies: ['creds'], ttl: '1h' });
    const child = await token({ policies: ['creds'], ttl: '1h' }, parent.id);
    const grandchild = await token({ policies: ['creds'], ttl: '1h' }, child.id);
    const leaseOf = async (t: string): Promise<{ username: string; password: string }> => {
      const data = obj(expectStatus(await call(address, t, 'GET', 'database/creds/app'), 200).data);
      return { username: str(data.username), password: str(data.password) };
    };
    const mine = await leaseOf(child.id);
    const below = await leaseOf(grandchild.id);
    const parents = await leaseOf(parent.id);
    assert.equal(await roleExists(postgres.url, mine.username), true);

    expectStatus(await call(address, child.id, 'POST', 'auth/token/revoke-self'), 204);
    // Synchronous: the database logins are gone when the 204 arrives.
    assert.equal(await roleExists(postgres.url, mine.username), false);
    assert.equal(await roleExists(postgres.url, below.username), false);
    assert.equal(await canLogin(postgres.url, mine.username, mine.password), false);
    expectStatus(await call(address, child.id, 'GET', 'auth/token/lookup-self'), 403);
    expectStatus(await call(address, grandchild.id, 'GET', 'auth/token/lookup-self'), 403);
    expectStatus(await call(address, root, 'POST', 'auth/token/lookup-accessor', { accessor: child.accessor }), 400);
    // A second revoke-self: the token no longer exists.
    expectStatus(await call(address, child.id, 'POST', 'auth/token/revoke-self'), 403);

    expectStatus(await call(address, parent.id, 'GET', 'auth/token/lookup-self'), 200);
    assert.equal(await canLogin(postgres.url, parents.username, parents.password), true);
  });

  it('obeys the ACL: a token without the default policy may not revoke itself', async () => {
    const bare = await token({ policies: ['creds'], ttl: '1h', no_default_policy: true });
    const data = obj(expectStatus(await call(address, bare.id, 'GET', 'database/creds/app'), 200).data);
    expectStatus(await call(address, bare.id, 'POST', 'auth/token/revoke-self'), 403);
    const looked = obj(expectStatus(await call(address, root, 'POST', 'auth/token/lookup-accessor', { accessor: bare.accessor }), 200).data);
    assert.equal(looked.accessor, bare.accessor);
    assert.equal(await roleExists(postgres.url, str(data.username)), true);
  });

  it('is an update: a read is denied by the default policy (403) and unsupported even for root (405)', async () => {
    const t = await token({ policies: ['creds'], ttl: '1h' });
    expectStatus(await call(address, t.id, 'GET', 'auth/token/revoke-self'), 403);
    expectStatus(await call(address, t.id, 'GET', 'auth/token/lookup-self'), 200);
    const r = await token({ policies: ['root'] });
    expectStatus(await call(address, r.id, 'GET', 'auth/token/revoke-self'), 405);
    expectStatus(await call(address, r.id, 'GET', 'auth/token/lookup-self'), 200);
  });
});
